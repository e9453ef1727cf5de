import { z } from 'zod';

const sagaStatuses = [
  'RESERVING',
  'CHARGING',
  'SHIPPING',
  'COMPENSATING',
  'CONFIRMED',
  'REJECTED',
  'CANCELLED',
  'COMPENSATION_FAILED',
] as const;

/** A saga as an operator sees it (`GET /admin/sagas`, `pnpm saga list`). */
export const SagaView = z.object({
  orderId: z.uuid(),
  status: z.enum(sagaStatuses),
  attempt: z.int().meta({ description: 'send of the current step or compensation round' }),
  pending: z.array(z.string()).meta({ description: 'compensations sent and not yet acknowledged' }),
  compensated: z.array(z.string()),
  reason: z.string().nullable(),
  deadlineAt: z.iso.datetime().nullable().meta({ description: 'when the saga acts next if nothing answers' }),
  updatedAt: z.iso.datetime(),
});
export type SagaView = z.infer<typeof SagaView>;

/** One page of `GET /admin/sagas`, oldest order first. */
export const SagaPage = z.object({
  sagas: z.array(SagaView),
  next: z.uuid().nullable().meta({ description: 'pass as `after` for the next page; null on the last one' }),
});
export type SagaPage = z.infer<typeof SagaPage>;

/** The query of `GET /admin/sagas`. */
export const ListSagasQuery = z.strictObject({
  status: z.enum(sagaStatuses).optional(),
  // Bounded: a page is one indexed range read, whatever the table holds.
  limit: z.coerce.number().int().min(1).max(200).default(50),
  after: z.uuid().optional().meta({ description: 'the `next` of the previous page' }),
});
export type ListSagasQuery = z.infer<typeof ListSagasQuery>;

export interface SagaRow {
  order_id: string;
  status: string;
  attempt: number;
  pending: string[];
  compensated: string[];
  reason: string | null;
  deadline_at: Date | null;
  updated_at: Date;
}

export function toSagaView(row: SagaRow): SagaView {
  return {
    orderId: row.order_id,
    status: row.status as SagaView['status'],
    attempt: row.attempt,
    pending: row.pending,
    compensated: row.compensated,
    reason: row.reason,
    deadlineAt: row.deadline_at?.toISOString() ?? null,
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The columns {@link toSagaView} reads. */
export const SAGA_VIEW_COLUMNS =
  'order_id::text, status, attempt, pending, compensated, reason, deadline_at, updated_at';
