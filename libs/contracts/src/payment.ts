import { z } from 'zod';
import { Money, OrderId, Reason } from './common.js';

/** Command: charge the customer for the order. */
export const ChargePayment = z.strictObject({
  orderId: OrderId,
  customerId: z.string().min(1),
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
  paymentId: z.string().min(1),
  amount: Money,
});
export type PaymentCharged = z.infer<typeof PaymentCharged>;

/** Event: the charge was refused; nothing was charged. */
export const PaymentDeclined = z.strictObject({
  orderId: OrderId,
  reason: z.enum(['credit_limit_exceeded', 'customer_unknown']),
});
export type PaymentDeclined = z.infer<typeof PaymentDeclined>;

/** Event: the charge `paymentId` was paid back in full. */
export const PaymentRefunded = z.strictObject({
  orderId: OrderId,
  paymentId: z.string().min(1),
  amount: Money,
});
export type PaymentRefunded = z.infer<typeof PaymentRefunded>;
