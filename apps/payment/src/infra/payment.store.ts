import type { PgTx } from '@order-saga/consumer';
import type { Customer, Outcome, Payment } from '../domain/payment.js';
import type { Customer as CustomerModel, Payment as PaymentModel } from '../generated/prisma/client.js';

// Every handler locks the order's payment row first, then the customer's row: one order across
// all handlers, so two transactions never wait for each other in opposite directions.

type PaymentRow = Pick<
  PaymentModel,
  'orderId' | 'status' | 'paymentId' | 'customerId' | 'amount' | 'reason' | 'chargedAt' | 'refundedAt'
>;

/**
 * The order's payment, locked until the transaction ends. When the order has none, nothing is
 * locked: two charges of one order racing (possible only through a dead-letter replay, since one
 * order's messages arrive in sequence) both insert, the primary key refuses the second, and its
 * retry finds the row.
 */
export async function lockPayment(tx: PgTx, orderId: string): Promise<Payment | null> {
  const [row] = await tx.query<PaymentRow>(
    `SELECT order_id::text AS "orderId", status::text AS status, payment_id::text AS "paymentId",
            customer_id AS "customerId", amount, reason, charged_at AS "chargedAt", refunded_at AS "refundedAt"
       FROM payment WHERE order_id = $1::uuid FOR UPDATE`,
    [orderId],
  );
  return row ?? null;
}

/** The customer's credit, locked: concurrent charges of one customer take turns, none overdraws. */
export async function lockCustomer(tx: PgTx, customerId: string): Promise<Customer | null> {
  const [row] = await tx.query<Pick<CustomerModel, 'id' | 'availableCredit'>>(
    `SELECT id, available_credit AS "availableCredit" FROM customer WHERE id = $1 FOR UPDATE`,
    [customerId],
  );
  return row ?? null;
}

/** Writes what the decision changed; `before` tells an order's first payment from an update. */
export async function saveOutcome(tx: PgTx, before: Payment | null, outcome: Outcome): Promise<void> {
  if (outcome.payment) {
    const p = outcome.payment;
    const values = [p.orderId, p.status, p.paymentId, p.customerId, p.amount, p.reason, p.chargedAt, p.refundedAt];
    if (before) {
      const updated = await tx.execute(
        `UPDATE payment
            SET status = $2::payment_status, payment_id = $3::uuid, customer_id = $4, amount = $5, reason = $6,
                charged_at = $7, refunded_at = $8
          WHERE order_id = $1::uuid`,
        values,
      );
      if (updated !== 1) throw new Error(`payment of order ${p.orderId} vanished while locked`);
    } else {
      // A plain INSERT, never an upsert: a concurrent first charge must be refused (see lockPayment).
      await tx.execute(
        `INSERT INTO payment (order_id, status, payment_id, customer_id, amount, reason, charged_at, refunded_at)
         VALUES ($1::uuid, $2::payment_status, $3::uuid, $4, $5, $6, $7, $8)`,
        values,
      );
    }
  }
  if (outcome.credit) {
    const updated = await tx.execute(`UPDATE customer SET available_credit = $2 WHERE id = $1`, [
      outcome.credit.id,
      outcome.credit.availableCredit,
    ]);
    if (updated !== 1) throw new Error(`customer ${outcome.credit.id} vanished while locked`);
  }
}
