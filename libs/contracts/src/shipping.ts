import { z } from 'zod';
import { Address, OrderId, OrderLines, Reason, TextId } from './common.js';

/** Command: ship the order's lines to the address. */
export const CreateShipment = z.strictObject({
  orderId: OrderId,
  address: Address,
  items: OrderLines,
});
export type CreateShipment = z.infer<typeof CreateShipment>;

/** Command (compensation): cancel the order's shipment. */
export const CancelShipment = z.strictObject({
  orderId: OrderId,
  reason: Reason,
});
export type CancelShipment = z.infer<typeof CancelShipment>;

/** Event: a shipment exists for the order. */
export const ShipmentCreated = z.strictObject({
  orderId: OrderId,
  shipmentId: TextId,
});
export type ShipmentCreated = z.infer<typeof ShipmentCreated>;

/** Event: the order cannot be shipped; no shipment was created. */
export const ShipmentRefused = z.strictObject({
  orderId: OrderId,
  reason: z.enum(['country_not_served', 'order_cancelled']),
});
export type ShipmentRefused = z.infer<typeof ShipmentRefused>;

/**
 * Event: the shipment `shipmentId` was cancelled. Without `shipmentId`, no shipment existed for
 * the order; the cancellation is recorded so a late `CreateShipment` is refused.
 */
export const ShipmentCancelled = z.strictObject({
  orderId: OrderId,
  shipmentId: TextId.optional(),
});
export type ShipmentCancelled = z.infer<typeof ShipmentCancelled>;
