import { z } from 'zod';

/** An order's id: every saga message carries it, and it is the Kafka key of every saga message. */
export const OrderId = z.uuid();

/** Money in integer minor units (cents): floats cannot represent 0.10 exactly. */
export const Money = z.number().int().positive();

/** A non-empty line of free text explaining a decision, for people reading logs and dead letters. */
export const Reason = z.string().min(1);

/** One order line: a stock-keeping unit and how many of it. */
export const OrderLine = z.strictObject({
  sku: z.string().min(1),
  quantity: z.number().int().positive(),
});
export type OrderLine = z.infer<typeof OrderLine>;

/** The lines of an order; an order without lines is never placed, so neither is any message about it. */
export const OrderLines = z.array(OrderLine).min(1);

/** A delivery address. */
export const Address = z.strictObject({
  /** ISO 3166-1 alpha-2. Only the shape is checked: whether a country is served is the
   * shipping service's decision (`ShipmentRefused`), not a contract violation. */
  country: z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166-1 alpha-2 country code such as "FR"'),
  city: z.string().min(1),
  line1: z.string().min(1),
});
export type Address = z.infer<typeof Address>;
