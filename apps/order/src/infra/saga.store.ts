import { Injectable } from '@nestjs/common';
import type { PgTx } from '@order-saga/consumer';
import { Outbox } from '@order-saga/outbox';
import { currentTraceContext } from '@order-saga/telemetry';
import type { Order, OrderItem, Saga } from '../generated/prisma/client.js';
import type { Decision, OrderData, OrderSaga, Participant, SagaStatus } from '../saga/order.saga.js';
import { terminalStatuses } from '../saga/order.saga.js';

/**
 * A saga as loaded for a move: its state, what the deadline timer needs to join the order's trace
 * and flow, and how long ago the order was placed (the saga's duration when it ends now).
 */
export type LoadedSaga = OrderSaga &
  Pick<Saga, 'traceparent' | 'tracestate'> &
  Pick<Order, 'correlationId'> & {
    /**
     * On the database's clock: `now()` is the transaction's start, so it is the same instant in
     * every statement of the transaction that moves the saga.
     */
    orderAgeSeconds: number;
  };

/** What the order row holds beyond its saga's data: the priced lines and the flow's correlation id. */
export type OrderPlacement = Pick<Order, 'correlationId'> & {
  lines: Pick<OrderItem, 'sku' | 'quantity' | 'unitPrice'>[];
};

type LoadedRow = Pick<
  Saga,
  | 'orderId'
  | 'status'
  | 'attempt'
  | 'deadlineAt'
  | 'pending'
  | 'compensated'
  | 'reason'
  | 'data'
  | 'traceparent'
  | 'tracestate'
> &
  Pick<Order, 'correlationId'> & { orderAgeSeconds: number };

// Aliased to the Prisma model's field names, so a row is a Pick of the generated types.
const LOADED_COLUMNS = `
  s.order_id AS "orderId", s.status, s.attempt, s.deadline_at AS "deadlineAt", s.pending, s.compensated,
  s.reason, s.data, s.traceparent, s.tracestate, o.correlation_id AS "correlationId",
  extract(epoch FROM now() - o.created_at)::float8 AS "orderAgeSeconds"`;

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

// A decision's steps arrive as one JSON array; its order is the order of the saga_step ids.
const INSERT_STEPS = (orderParam: string, stepsParam: string) =>
  `INSERT INTO saga_step (order_id, name, outcome, detail)
   SELECT ${orderParam}::uuid, s.name, s.outcome, s.detail
     FROM jsonb_to_recordset(${stepsParam}::jsonb) AS s(name text, outcome text, detail text)`;

/** The order's public status: PENDING while the saga runs, then its outcome. */
export function orderStatusOf(status: SagaStatus): string {
  return (terminalStatuses as readonly string[]).includes(status) ? status : 'PENDING';
}

/**
 * Loads and saves sagas in the order database, in SQL on the caller's node-postgres transaction:
 * every reply and every deadline passes here, and a Prisma interactive transaction costs several
 * times the CPU of the statements it runs. Each write is one statement (CTEs for the saga, its
 * order and its history) plus the outbox's, so the state and the commands it implies commit as one
 * in the fewest round trips.
 */
@Injectable()
export class SagaStore {
  constructor(private readonly outbox: Outbox) {}

  /**
   * Inserts a new order, its lines, its saga and the saga's first steps in one statement, then
   * the saga's first messages. `decidedAt` is the `now` the decision was made with (see
   * {@link delayOf}).
   */
  async start(decision: Decision, order: OrderPlacement, tx: PgTx, decidedAt: Date): Promise<void> {
    const { saga, steps } = decision;
    const { customerId, total, address } = saga.data;
    const trace = currentTraceContext();
    await tx.execute(
      `WITH placed AS (
         INSERT INTO "order" (id, customer_id, status, total, country, city, line1, correlation_id, updated_at)
         VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, now())
       ), line AS (
         INSERT INTO order_item (order_id, sku, quantity, unit_price)
         SELECT $1::uuid, l.sku, l.quantity, l."unitPrice"
           FROM jsonb_to_recordset($9::jsonb) AS l(sku text, quantity int, "unitPrice" int)
       ), started AS (
         INSERT INTO saga (order_id, status, attempt, deadline_at, pending, compensated, reason, data,
                           traceparent, tracestate, updated_at)
         VALUES ($1::uuid, $10, $11, ${DEADLINE_FROM_DELAY('$12')}, $13::text[], $14::text[], $15, $16::jsonb,
                 $17, $18, now())
       )
       ${INSERT_STEPS('$1', '$19')}`,
      [
        saga.orderId,
        customerId,
        orderStatusOf(saga.status),
        total,
        address.country,
        address.city,
        address.line1,
        order.correlationId,
        JSON.stringify(order.lines),
        saga.status,
        saga.attempt,
        delayOf(saga, decidedAt),
        saga.pending,
        saga.compensated,
        saga.reason,
        JSON.stringify(saga.data),
        trace.traceparent ?? null,
        trace.tracestate ?? null,
        JSON.stringify(steps),
      ],
    );
    await this.send(decision, tx);
  }

  /** The saga of an order, locked until the transaction ends (one reply or deadline at a time). */
  async load(orderId: string, tx: PgTx): Promise<LoadedSaga | null> {
    const [row] = await tx.query<LoadedRow>(
      `SELECT ${LOADED_COLUMNS}
         FROM saga s JOIN "order" o ON o.id = s.order_id
        WHERE s.order_id = $1::uuid
          FOR UPDATE OF s`,
      [orderId],
    );
    return row ? loaded(row) : null;
  }

  /**
   * The saga whose deadline passed first, locked, or `null` when none is due. Sagas locked by
   * another transaction (a reply moving them, another replica's timer) are skipped, not waited for.
   */
  async claimDue(tx: PgTx): Promise<LoadedSaga | null> {
    const [row] = await tx.query<LoadedRow>(
      `SELECT ${LOADED_COLUMNS}
         FROM saga s JOIN "order" o ON o.id = s.order_id
        WHERE s.deadline_at <= now()
        ORDER BY s.deadline_at
        LIMIT 1
          FOR UPDATE OF s SKIP LOCKED`,
    );
    return row ? loaded(row) : null;
  }

  /**
   * Saves what a decision changed: saga state, the order's status when it moved, history (one
   * statement), then the outgoing messages. `decidedAt` is the `now` the decision was made with
   * (see {@link delayOf}).
   */
  async apply(before: OrderSaga, decision: Decision, tx: PgTx, decidedAt: Date): Promise<void> {
    const { saga, steps } = decision;
    const changed = saga !== before;
    if (changed || steps.length > 0) {
      await tx.execute(
        `WITH moved AS (
           UPDATE saga SET status = $2, attempt = $3, deadline_at = ${DEADLINE_FROM_DELAY('$4')},
                  pending = $5::text[], compensated = $6::text[], reason = $7, version = version + 1,
                  updated_at = now()
            WHERE order_id = $1::uuid AND $8::boolean
         ), history AS (
           ${INSERT_STEPS('$1', '$9')}
         )
         UPDATE "order" SET status = $10, reason = $7, updated_at = now() WHERE id = $1::uuid AND $11::boolean`,
        [
          saga.orderId,
          saga.status,
          saga.attempt,
          delayOf(saga, decidedAt),
          saga.pending,
          saga.compensated,
          saga.reason,
          changed,
          JSON.stringify(steps),
          orderStatusOf(saga.status),
          saga.status !== before.status,
        ],
      );
    }
    await this.send(decision, tx);
  }

  private async send(decision: Decision, tx: PgTx): Promise<void> {
    if (decision.send.length > 0) await this.outbox.enqueue(decision.send, tx);
  }
}

function loaded(row: LoadedRow): LoadedSaga {
  return {
    ...row,
    // Written only by this store, from the saga's own types.
    status: row.status as SagaStatus,
    pending: row.pending as Participant[],
    compensated: row.compensated as Participant[],
    data: row.data as unknown as OrderData,
  };
}
