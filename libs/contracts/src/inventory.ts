import { z } from 'zod';
import { OrderId, OrderLines, Reason, limits } from './common.js';

/** Command: hold stock for every line of an order, all or nothing. */
export const ReserveStock = z.strictObject({
  orderId: OrderId,
  items: OrderLines,
});
export type ReserveStock = z.infer<typeof ReserveStock>;

/** Command (compensation): give back the stock held for an order. */
export const ReleaseStock = z.strictObject({
  orderId: OrderId,
  reason: Reason,
});
export type ReleaseStock = z.infer<typeof ReleaseStock>;

/** Event: stock is held for every line of the order. */
export const StockReserved = z.strictObject({
  orderId: OrderId,
  items: OrderLines,
});
export type StockReserved = z.infer<typeof StockReserved>;

/** Event: the order cannot be served; nothing was held. `sku` is the first line that failed. */
export const StockUnavailable = z.strictObject({
  orderId: OrderId,
  reason: z.enum(['out_of_stock', 'unknown_sku']),
  sku: z.string().min(1).max(limits.sku),
});
export type StockUnavailable = z.infer<typeof StockUnavailable>;

/** Event: the stock held for the order is available again. */
export const StockReleased = z.strictObject({
  orderId: OrderId,
});
export type StockReleased = z.infer<typeof StockReleased>;
