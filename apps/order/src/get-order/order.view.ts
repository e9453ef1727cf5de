import { z } from 'zod';

/** An order as `GET /orders/:id` shows it: its status, its lines and the saga's history. */
export const OrderView = z.object({
  orderId: z.uuid(),
  status: z.enum(['PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED', 'COMPENSATION_FAILED']),
  reason: z.string().optional().meta({ description: 'why the order did not go through' }),
  total: z.int().meta({ description: 'minor units (cents)' }),
  items: z.array(z.object({ sku: z.string(), quantity: z.int(), unitPrice: z.int() })),
  steps: z
    .array(
      z.object({
        name: z.string(),
        outcome: z.string(),
        detail: z.string().optional(),
        at: z.iso.datetime(),
      }),
    )
    .meta({ description: 'the saga so far, oldest first' }),
});
export type OrderView = z.infer<typeof OrderView>;

interface OrderRow {
  id: string;
  status: string;
  reason: string | null;
  total: number;
  items: { sku: string; quantity: number; unitPrice: number }[];
  steps: { name: string; outcome: string; detail: string | null; at: Date }[];
}

export function toOrderView(row: OrderRow): OrderView {
  return {
    orderId: row.id,
    status: row.status as OrderView['status'],
    ...(row.reason !== null ? { reason: row.reason } : {}),
    total: row.total,
    items: row.items.map(({ sku, quantity, unitPrice }) => ({ sku, quantity, unitPrice })),
    steps: row.steps.map(({ name, outcome, detail, at }) => ({
      name,
      outcome,
      ...(detail !== null ? { detail } : {}),
      at: at.toISOString(),
    })),
  };
}
