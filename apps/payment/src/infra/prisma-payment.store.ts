import type { Customer, Outcome, Payment, PaymentStatus } from '../domain/payment.js';
import type { Tx } from './prisma.service.js';

// Every handler locks the order's payment row first, then the customer's row: one order across
// all handlers, so two transactions never wait for each other in opposite directions.

/**
 * The order's payment, locked until the transaction ends. When the order has none, nothing is
 * locked: two charges of one order racing (possible only through a dead-letter replay, since one
 * order's messages arrive in sequence) both insert, the primary key refuses the second, and its
 * retry finds the row.
 */
export async function lockPayment(tx: Tx, orderId: string): Promise<Payment | null> {
  const rows = await tx.$queryRaw<(Omit<Payment, 'status'> & { status: PaymentStatus })[]>`
    SELECT order_id::text AS "orderId", status::text AS status, payment_id::text AS "paymentId",
           customer_id AS "customerId", amount, reason, charged_at AS "chargedAt", refunded_at AS "refundedAt"
    FROM payment WHERE order_id = ${orderId}::uuid FOR UPDATE`;
  return rows[0] ?? null;
}

/** The customer's credit, locked: concurrent charges of one customer take turns, none overdraws. */
export async function lockCustomer(tx: Tx, customerId: string): Promise<Customer | null> {
  const rows = await tx.$queryRaw<Customer[]>`
    SELECT id, available_credit AS "availableCredit" FROM customer WHERE id = ${customerId} FOR UPDATE`;
  return rows[0] ?? null;
}

/** Writes what the decision changed; `before` tells an order's first payment from an update. */
export async function saveOutcome(tx: Tx, before: Payment | null, outcome: Outcome): Promise<void> {
  if (outcome.payment) {
    const { orderId, ...data } = outcome.payment;
    if (before) await tx.payment.update({ where: { orderId }, data });
    else await tx.payment.create({ data: outcome.payment });
  }
  if (outcome.credit) {
    await tx.customer.update({
      where: { id: outcome.credit.id },
      data: { availableCredit: outcome.credit.availableCredit },
    });
  }
}
