import countries from 'i18n-iso-countries';
import { z } from 'zod';

// The full ISO 3166-1 list rather than a two-letter pattern: a typo such as "UK" for "GB" is
// refused here, with a reason, instead of reaching the shipping service as a refusal later.
const COUNTRY_CODES = Object.keys(countries.getAlpha2Codes()) as [string, ...string[]];

const missingOr = (expected: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? 'required' : expected;

const MAX_INT32 = 2 ** 31 - 1;

const text = (maxLength: number) =>
  z
    .string({ error: missingOr('expected a string') })
    .min(1, 'must not be empty')
    .max(maxLength, `at most ${maxLength} characters`);

export const MAX_ITEMS = 100;

export const OrderLineRequest = z.strictObject({
  sku: text(100),
  // int32: the quantity and the order's total are stored in 4-byte integer columns.
  quantity: z
    .int32({
      error: (issue) =>
        issue.code === 'too_big' ? `at most ${MAX_INT32}` : missingOr('expected a positive integer')(issue),
    })
    .positive('expected a positive integer'),
});

export const ShippingAddressRequest = z.strictObject(
  {
    country: z.enum(COUNTRY_CODES, {
      error: missingOr('expected an ISO 3166-1 alpha-2 country code such as "FR"'),
    }),
    city: text(200),
    line1: text(200),
  },
  { error: missingOr('expected an object with country, city and line1') },
);

/** Body of `POST /orders`. Strict: a field we do not know is refused, not silently dropped. */
export const PlaceOrderRequest = z
  .strictObject(
    {
      customerId: text(200),
      items: z
        .array(OrderLineRequest, { error: missingOr('expected an array of items') })
        .min(1, 'at least one item is required')
        .max(MAX_ITEMS, `at most ${MAX_ITEMS} items`)
        // Each sku is one order_item row: two lines for one sku would collide, and a client that
        // sends them has almost certainly made a mistake worth telling it about.
        .superRefine((items, ctx) => {
          const seen = new Set<string>();
          items.forEach((item, i) => {
            if (seen.has(item.sku)) {
              ctx.addIssue({
                code: 'custom',
                path: [i, 'sku'],
                message: `"${item.sku}" appears on more than one line`,
              });
            }
            seen.add(item.sku);
          });
        }),
      shippingAddress: ShippingAddressRequest,
    },
    {
      error: (issue) =>
        issue.code === 'invalid_type' ? 'expected a JSON object (Content-Type: application/json)' : undefined,
    },
  )
  .meta({
    examples: [
      {
        customerId: 'customer-42',
        items: [{ sku: 'widget', quantity: 2 }],
        shippingAddress: { country: 'FR', city: 'Lyon', line1: '1 rue de la République' },
      },
    ],
  });
export type PlaceOrderRequest = z.infer<typeof PlaceOrderRequest>;

/** The `Idempotency-Key` header: the client's name for this attempt to place an order. */
export const IdempotencyKey = z
  .string({ error: missingOr('expected a string') })
  .min(1, 'required')
  .max(200, 'at most 200 characters');

/** The answer to an accepted (or replayed) `POST /orders`. */
export const PlaceOrderAccepted = z.object({
  orderId: z.uuid(),
  status: z.literal('PENDING'),
  statusUrl: z.string().meta({ description: 'where to follow the order: GET it until the status is final' }),
});
export type PlaceOrderAccepted = z.infer<typeof PlaceOrderAccepted>;

export function acceptedResponse(orderId: string): PlaceOrderAccepted {
  return { orderId, status: 'PENDING', statusUrl: `/orders/${orderId}` };
}
