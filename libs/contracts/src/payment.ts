import { z } from 'zod';
import { Money, OrderId, Reason, TextId, limits } from './common.js';

/** Command: charge the customer for the order. */
export const ChargePayment = z.strictObject({
  orderId: OrderId,
  customerId: TextId,
  amount: Money,
});
export type ChargePayment = z.infer<typeof ChargePayment>;

/** Command (compensation): pay back what was charged for the order. */
export const RefundPayment = z.strictObject({
  orderId: OrderId,
  reason: Reason,
});
export type RefundPayment = z.infer<typeof RefundPayment>;

/** Event: the customer was charged `amount` (minor units). */
export const PaymentCharged = z.strictObject({
  orderId: OrderId,
  paymentId: TextId,
  amount: Money,
});
export type PaymentCharged = z.infer<typeof PaymentCharged>;

/** Event: the charge was refused; nothing was charged. */
export const PaymentDeclined = z.strictObject({
  orderId: OrderId,
  // order_cancelled: the order was compensated before this charge arrived (e.g. it was replayed
  // from the dead-letter topic late); charging now would hold money for a cancelled order.
  reason: z.enum(['credit_limit_exceeded', 'customer_unknown', 'order_cancelled']),
});
export type PaymentDeclined = z.infer<typeof PaymentDeclined>;

/**
 * Event: the charge `paymentId` was paid back in full. When nothing had been charged for the
 * order (the saga compensates a charge whose reply never came), `amount` is 0 and `paymentId` is
 * absent: the refund is still acknowledged, and a later charge for the order is declined.
 */
export const PaymentRefunded = z.strictObject({
  orderId: OrderId,
  paymentId: TextId.optional(),
  amount: z.number().int().nonnegative().max(limits.int32),
});
export type PaymentRefunded = z.infer<typeof PaymentRefunded>;
