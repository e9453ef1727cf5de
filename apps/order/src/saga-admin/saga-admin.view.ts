import { z } from 'zod';
import type { Saga } from '../generated/prisma/client.js';

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

/** A saga row as {@link toSagaView} reads it: the Prisma model's fields. */
export type SagaViewRow = Pick<
  Saga,
  'orderId' | 'status' | 'attempt' | 'pending' | 'compensated' | 'reason' | 'deadlineAt' | 'updatedAt'
>;

export function toSagaView(row: SagaViewRow): SagaView {
  return {
    orderId: row.orderId,
    status: row.status as SagaView['status'],
    attempt: row.attempt,
    pending: row.pending,
    compensated: row.compensated,
    reason: row.reason,
    deadlineAt: row.deadlineAt?.toISOString() ?? null,
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The columns {@link toSagaView} reads, named as the model's fields. */
export const SAGA_VIEW_COLUMNS =
  'order_id AS "orderId", status, attempt, pending, compensated, reason, deadline_at AS "deadlineAt", updated_at AS "updatedAt"';
