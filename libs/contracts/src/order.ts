import { z } from 'zod';
import { Address, Money, OrderId, OrderLines, Reason, TextId } from './common.js';

/** Event: a customer placed an order; the saga starts here. `total` is in minor units. */
export const OrderPlaced = z.strictObject({
  orderId: OrderId,
  customerId: TextId,
  items: OrderLines,
  total: Money,
  shippingAddress: Address,
});
export type OrderPlaced = z.infer<typeof OrderPlaced>;

/** Event: stock is held, payment taken and a shipment created. */
export const OrderConfirmed = z.strictObject({
  orderId: OrderId,
});
export type OrderConfirmed = z.infer<typeof OrderConfirmed>;

/** Event: the order could not be fulfilled and every step taken for it was undone. */
export const OrderRejected = z.strictObject({
  orderId: OrderId,
  reason: Reason,
});
export type OrderRejected = z.infer<typeof OrderRejected>;

/** Event: the order was cancelled on request and every step taken for it was undone. */
export const OrderCancelled = z.strictObject({
  orderId: OrderId,
  reason: Reason,
});
export type OrderCancelled = z.infer<typeof OrderCancelled>;

/**
 * Event: a compensating command kept failing, so the order is stuck half-undone and needs a
 * person. `step` names the compensation that failed.
 */
export const OrderCompensationFailed = z.strictObject({
  orderId: OrderId,
  step: z.enum(['ReleaseStock', 'RefundPayment', 'CancelShipment']),
  reason: Reason,
});
export type OrderCompensationFailed = z.infer<typeof OrderCompensationFailed>;
