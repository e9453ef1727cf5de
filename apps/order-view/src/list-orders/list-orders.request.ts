import { fieldErrors, invalidRequest } from '@order-saga/http';
import { z } from 'zod';
import type { OrderCursor, OrderFilter } from '../order-summary/order-summary.queries.js';

export const MAX_LIMIT = 200;

const Cursor = z.tuple([z.iso.datetime({ offset: true }), z.string().min(1)]);

/** Opaque to clients: the last order of a page, from which the next page continues. */
export function encodeCursor(cursor: OrderCursor): string {
  return Buffer.from(JSON.stringify([cursor.placedAt, cursor.orderId])).toString('base64url');
}

const ListQuery = z.strictObject({
  status: z.enum(['PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED', 'COMPENSATION_FAILED']).optional(),
  customerId: z.string().min(1).optional(),
  sku: z.string().min(1).optional(),
  placedFrom: z.iso.datetime({ offset: true }).optional(),
  placedTo: z.iso.datetime({ offset: true }).optional(),
  limit: z
    .string()
    .regex(/^\d+$/, 'expected an integer')
    .transform(Number)
    .pipe(z.int().min(1).max(MAX_LIMIT, `at most ${MAX_LIMIT}`))
    .optional(),
  cursor: z
    .string()
    .transform((text, ctx) => {
      try {
        const [placedAt, orderId] = Cursor.parse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
        return { placedAt, orderId };
      } catch {
        ctx.addIssue({ code: 'custom', message: 'not a cursor this API returned' });
        return z.NEVER;
      }
    })
    .optional(),
});

export interface ListRequest {
  filter: OrderFilter;
  limit: number;
  cursor?: OrderCursor;
}

/** Reads and checks the list's query string; refuses with a 400 naming each bad parameter. */
export function parseListQuery(query: Record<string, unknown>): ListRequest {
  const parsed = ListQuery.safeParse(query);
  if (!parsed.success) throw invalidRequest(fieldErrors(parsed.error.issues));
  const q = parsed.data;
  return {
    filter: {
      status: q.status,
      customerId: q.customerId,
      sku: q.sku,
      placedFrom: q.placedFrom ? new Date(q.placedFrom) : undefined,
      placedTo: q.placedTo ? new Date(q.placedTo) : undefined,
    },
    limit: q.limit ?? 50,
    cursor: q.cursor,
  };
}
