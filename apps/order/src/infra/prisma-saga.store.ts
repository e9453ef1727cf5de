import { Injectable } from '@nestjs/common';
import { Outbox } from '@order-saga/outbox';
import { currentTraceContext } from '@order-saga/telemetry';
import type { Decision, OrderData, OrderSaga, Participant, SagaStatus } from '../saga/order.saga.js';
import { terminalStatuses } from '../saga/order.saga.js';
import type { Tx } from './prisma.service.js';

interface SagaRow {
  order_id: string;
  status: string;
  attempt: number;
  deadline_at: Date | null;
  pending: string[];
  compensated: string[];
  reason: string | null;
  data: unknown;
  traceparent: string | null;
  tracestate: string | null;
}

/**
 * How long after its decision a saga's deadline falls, or `null` when it waits for nothing. The
 * pure saga computes deadlines from the `now` it is given; the store keeps only the delay and adds
 * it to the database's clock, the same clock the deadline timer compares with (`deadline_at <=
 * now()`). An application host whose clock is off would otherwise fire every deadline early or
 * late by its skew.
 */
export function delayOf(saga: Pick<OrderSaga, 'deadlineAt'>, decidedAt: Date): number | null {
  return saga.deadlineAt === null ? null : Math.max(0, saga.deadlineAt.getTime() - decidedAt.getTime());
}

// NULL stays NULL: NULL * interval is NULL, and so is now() + NULL.
const DEADLINE_FROM_DELAY = (param: string) =>
  `now() + ${param}::double precision * interval '1 millisecond'`;

/** The order's public status: PENDING while the saga runs, then its outcome. */
export function orderStatusOf(status: SagaStatus): string {
  return (terminalStatuses as readonly string[]).includes(status) ? status : 'PENDING';
}

/**
 * Loads and saves sagas in the order database. Every write goes through the caller's transaction
 * together with the outbox rows, so the state and the commands it implies commit as one.
 */
@Injectable()
export class PrismaSagaStore {
  constructor(private readonly outbox: Outbox) {}

  /**
   * Records a new saga for an order inserted in the same transaction, and sends its first messages.
   * `decidedAt` is the `now` the decision was made with (see {@link delayOf}).
   */
  async start(decision: Decision, tx: Tx, decidedAt: Date): Promise<void> {
    const { saga } = decision;
    const trace = currentTraceContext();
    await tx.$executeRawUnsafe(
      `INSERT INTO saga (order_id, status, attempt, deadline_at, pending, compensated, reason, data,
                         traceparent, tracestate, updated_at)
       VALUES ($1::uuid, $2, $3, ${DEADLINE_FROM_DELAY('$4')}, $5::text[], $6::text[], $7, $8::jsonb,
               $9, $10, now())`,
      saga.orderId,
      saga.status,
      saga.attempt,
      delayOf(saga, decidedAt),
      saga.pending,
      saga.compensated,
      saga.reason,
      JSON.stringify(saga.data),
      trace.traceparent ?? null,
      trace.tracestate ?? null,
    );
    await this.record(decision, tx);
  }

  /** The saga of an order, locked until the transaction ends (one reply or deadline at a time). */
  async load(
    orderId: string,
    tx: Tx,
  ): Promise<(OrderSaga & { traceparent: string | null; tracestate: string | null }) | null> {
    // Raw SQL on the saga's hot path (every reply and deadline): one round trip that reads and
    // locks, instead of a lock query plus a Prisma model query compiled on each call.
    const rows = await tx.$queryRawUnsafe<SagaRow[]>(
      `SELECT order_id::text, status, attempt, deadline_at, pending, compensated, reason, data, traceparent, tracestate
         FROM saga WHERE order_id = $1::uuid FOR UPDATE`,
      orderId,
    );
    const row = rows[0];
    if (!row) return null;
    return {
      orderId: row.order_id,
      status: row.status as SagaStatus,
      attempt: row.attempt,
      deadlineAt: row.deadline_at,
      pending: row.pending as Participant[],
      compensated: row.compensated as Participant[],
      reason: row.reason,
      data: row.data as OrderData,
      traceparent: row.traceparent,
      tracestate: row.tracestate,
    };
  }

  /**
   * Saves what a decision changed: saga state, the order's status, history, outgoing messages.
   * `decidedAt` is the `now` the decision was made with (see {@link delayOf}).
   */
  async apply(before: OrderSaga, decision: Decision, tx: Tx, decidedAt: Date): Promise<void> {
    const { saga } = decision;
    if (saga !== before) {
      // The saga row and, when the status moved, the order's public status, in one statement.
      await tx.$executeRawUnsafe(
        `WITH s AS (
           UPDATE saga SET status = $2, attempt = $3, deadline_at = ${DEADLINE_FROM_DELAY('$4')}, pending = $5::text[],
                  compensated = $6::text[], reason = $7, version = version + 1, updated_at = now()
            WHERE order_id = $1::uuid)
         UPDATE "order" SET status = $8, reason = $7, updated_at = now() WHERE id = $1::uuid AND $9`,
        saga.orderId,
        saga.status,
        saga.attempt,
        delayOf(saga, decidedAt),
        saga.pending,
        saga.compensated,
        saga.reason,
        orderStatusOf(saga.status),
        saga.status !== before.status,
      );
    }
    await this.record(decision, tx);
  }

  private async record(decision: Decision, tx: Tx): Promise<void> {
    const { steps } = decision;
    if (steps.length > 0) {
      await tx.$executeRawUnsafe(
        `INSERT INTO saga_step (order_id, name, outcome, detail)
         SELECT $1::uuid, s.name, s.outcome, s.detail
           FROM unnest($2::text[], $3::text[], $4::text[]) AS s(name, outcome, detail)`,
        decision.saga.orderId,
        steps.map((step) => step.name),
        steps.map((step) => step.outcome),
        steps.map((step) => step.detail ?? null),
      );
    }
    if (decision.send.length > 0) await this.outbox.enqueue(decision.send, tx);
  }
}
