import {
  PaymentDeclined,
  type ChargePayment,
  type PaymentCharged,
  type PaymentRefunded,
  type RefundPayment,
} from '@order-saga/contracts';

export type PaymentStatus = 'CHARGED' | 'DECLINED' | 'REFUNDED' | 'VOIDED';
export type DeclineReason = PaymentDeclined['reason'];

/** The one payment an order can have: the decision taken on its first charge or refund. */
export interface Payment {
  orderId: string;
  status: PaymentStatus;
  /** Set exactly when money moved (CHARGED, REFUNDED). */
  paymentId: string | null;
  customerId: string | null;
  /** Cents; what was charged, or asked for when declined; 0 for a tombstone. */
  amount: number;
  /** Why it was declined, or why it was refunded or voided. */
  reason: string | null;
  chargedAt: Date | null;
  refundedAt: Date | null;
}

export interface Customer {
  id: string;
  /** Cents the customer can still be charged. */
  availableCredit: number;
}

export type PaymentReply =
  | { type: 'PaymentCharged'; payload: PaymentCharged }
  | { type: 'PaymentDeclined'; payload: PaymentDeclined }
  | { type: 'PaymentRefunded'; payload: PaymentRefunded };

/** What a command changes, and the reply the orchestrator waits for. */
export interface Outcome {
  /** The order's payment as it must be stored; absent when it stays as it was. */
  payment?: Payment;
  /** The customer's credit after the decision; absent when it does not move. */
  credit?: Customer;
  reply: PaymentReply;
}

/** What the decision needs from outside a pure function: a fresh id and the time. */
export interface Fresh {
  paymentId: string;
  now: Date;
}

/**
 * Charges the customer once per order. The orchestrator re-sends `ChargePayment` with a new
 * message id when the reply is late, so an order that already has a payment gets the same reply
 * again instead of a second charge; a compensated order is never charged.
 *
 * @param customer the customer's locked row, or null when unknown; only read when the order has
 * no payment yet.
 */
export function decideCharge(
  command: ChargePayment,
  existing: Payment | null,
  customer: Customer | null,
  fresh: Fresh,
): Outcome {
  if (existing) return { reply: replyToRepeatedCharge(existing) };

  const declined = (reason: DeclineReason): Outcome => ({
    payment: {
      orderId: command.orderId,
      status: 'DECLINED',
      paymentId: null,
      customerId: command.customerId,
      amount: command.amount,
      reason,
      chargedAt: null,
      refundedAt: null,
    },
    reply: { type: 'PaymentDeclined', payload: { orderId: command.orderId, reason } },
  });
  if (!customer) return declined('customer_unknown');
  if (customer.availableCredit < command.amount) return declined('credit_limit_exceeded');

  return {
    payment: {
      orderId: command.orderId,
      status: 'CHARGED',
      paymentId: fresh.paymentId,
      customerId: customer.id,
      amount: command.amount,
      reason: null,
      chargedAt: fresh.now,
      refundedAt: null,
    },
    credit: { id: customer.id, availableCredit: customer.availableCredit - command.amount },
    reply: charged(command.orderId, fresh.paymentId, command.amount),
  };
}

function replyToRepeatedCharge(existing: Payment): PaymentReply {
  switch (existing.status) {
    case 'CHARGED':
      return charged(existing.orderId, requirePaymentId(existing), existing.amount);
    case 'DECLINED':
      return {
        type: 'PaymentDeclined',
        payload: { orderId: existing.orderId, reason: PaymentDeclined.shape.reason.parse(existing.reason) },
      };
    case 'REFUNDED':
    case 'VOIDED':
      // A charge arriving after the compensation (a replay from the dead-letter topic, a re-send
      // overtaken by the refund) would hold money for a cancelled order.
      return { type: 'PaymentDeclined', payload: { orderId: existing.orderId, reason: 'order_cancelled' } };
  }
}

/**
 * Pays back what the order was charged, once. A refund for an order that was never charged is
 * still acknowledged (amount 0) so the saga can finish compensating, and leaves a tombstone that
 * makes a later charge for the order decline.
 *
 * @param customer the charged customer's locked row; only read when the payment is CHARGED.
 */
export function decideRefund(
  command: RefundPayment,
  existing: Payment | null,
  customer: Customer | null,
  fresh: Pick<Fresh, 'now'>,
): Outcome {
  const nothingTaken: PaymentReply = {
    type: 'PaymentRefunded',
    payload: { orderId: command.orderId, amount: 0 },
  };
  if (!existing) {
    return {
      payment: {
        orderId: command.orderId,
        status: 'VOIDED',
        paymentId: null,
        customerId: null,
        amount: 0,
        reason: command.reason,
        chargedAt: null,
        refundedAt: null,
      },
      reply: nothingTaken,
    };
  }
  switch (existing.status) {
    case 'DECLINED':
    case 'VOIDED':
      // DECLINED stays DECLINED: it already blocks nothing, and a repeated charge must keep
      // getting the decline it got the first time.
      return { reply: nothingTaken };
    case 'REFUNDED':
      return { reply: refunded(existing) };
    case 'CHARGED': {
      if (!customer || customer.id !== existing.customerId) {
        throw new Error(
          `payment of order ${existing.orderId} names customer ${existing.customerId}, whose row was not found`,
        );
      }
      const payment: Payment = {
        ...existing,
        status: 'REFUNDED',
        reason: command.reason,
        refundedAt: fresh.now,
      };
      return {
        payment,
        credit: { id: customer.id, availableCredit: customer.availableCredit + existing.amount },
        reply: refunded(payment),
      };
    }
  }
}

function charged(orderId: string, paymentId: string, amount: number): PaymentReply {
  return { type: 'PaymentCharged', payload: { orderId, paymentId, amount } };
}

function refunded(payment: Payment): PaymentReply {
  return {
    type: 'PaymentRefunded',
    payload: { orderId: payment.orderId, paymentId: requirePaymentId(payment), amount: payment.amount },
  };
}

function requirePaymentId(payment: Payment): string {
  // The database's CHECK guarantees it for CHARGED and REFUNDED rows; this tells the compiler.
  if (!payment.paymentId)
    throw new Error(`payment of order ${payment.orderId} is ${payment.status} without a payment id`);
  return payment.paymentId;
}
