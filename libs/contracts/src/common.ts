import { z } from 'zod';

/**
 * Upper bounds of every consumed field. A consumer decodes whatever a topic holds, so without them
 * one oversized message (a 100 MB string, a million lines) costs every consumer the memory and CPU
 * to parse and validate it, on every redelivery. They match the HTTP limits of `POST /orders`
 * (apps/order/src/place-order/place-order.request.ts), so every message our own producers ever
 * wrote fits: tightening to them breaks no reader of old messages.
 */
export const limits = {
  /** Ids that are not uuids (customer, payment, shipment, aggregate and correlation ids). */
  id: 200,
  /** A stock-keeping unit, as `POST /orders` accepts it. */
  sku: 100,
  /** City and street line of an address, as `POST /orders` accepts them. */
  addressLine: 200,
  /** Lines of one order, as `POST /orders` accepts them. */
  orderLines: 100,
  /** A free-text reason: longer than any reason the services write (they are short codes and templates). */
  reason: 500,
  /** Quantities and amounts are stored in 4-byte integer columns. */
  int32: 2 ** 31 - 1,
} as const;

/** A string id that is not a uuid: non-empty, at most {@link limits.id} characters. */
export const TextId = z.string().min(1).max(limits.id);

/** An order's id: every saga message carries it, and it is the Kafka key of every saga message. */
export const OrderId = z.uuid();

/** Money in integer minor units (cents): floats cannot represent 0.10 exactly. */
export const Money = z.number().int().positive().max(limits.int32);

/** A non-empty line of free text explaining a decision, for people reading logs and dead letters. */
export const Reason = z.string().min(1).max(limits.reason);

/** One order line: a stock-keeping unit and how many of it. */
export const OrderLine = z.strictObject({
  sku: z.string().min(1).max(limits.sku),
  quantity: z.number().int().positive().max(limits.int32),
});
export type OrderLine = z.infer<typeof OrderLine>;

/** The lines of an order; an order without lines is never placed, so neither is any message about it. */
export const OrderLines = z.array(OrderLine).min(1).max(limits.orderLines);

/** A delivery address. */
export const Address = z.strictObject({
  /** ISO 3166-1 alpha-2. Only the shape is checked: whether a country is served is the
   * shipping service's decision (`ShipmentRefused`), not a contract violation. */
  country: z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166-1 alpha-2 country code such as "FR"'),
  city: z.string().min(1).max(limits.addressLine),
  line1: z.string().min(1).max(limits.addressLine),
});
export type Address = z.infer<typeof Address>;
