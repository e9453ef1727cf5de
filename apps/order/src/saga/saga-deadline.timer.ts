import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { context } from '@opentelemetry/api';
import { isTransient } from '@order-saga/consumer';
import { Transactions } from '@order-saga/platform';
import { contextFromTraceparent, meter, runWithMessageContext, withSpan } from '@order-saga/telemetry';
import { SagaStore } from '../infra/saga.store.js';
import { onDeadline } from './order.saga.js';
import { SagaRunner } from './saga-runner.js';

const TICK_MS = 200;
const BATCH = 50;
/** First wait before a quarantined saga's deadline fires again; doubles per quarantine. */
const QUARANTINE_BASE_MS = 5_000;
const QUARANTINE_CAP_MS = 3_600_000;

const quarantined = meter('order-saga').createCounter('saga_deadline_quarantined_total', {
  description: 'Deadlines that failed to run and were pushed out: each saga needs a look (see its steps)',
});

/**
 * Acts on sagas whose step deadline has passed: re-send, or give up and compensate. Deadlines live
 * in the saga rows, so a restarted (or another) order process picks up what a crashed one left.
 *
 * Each saga is claimed and moved in a transaction of its own, with `FOR UPDATE SKIP LOCKED`:
 * replicas share the work without acting on one saga twice, and a saga that a reply is moving
 * right now is left to it. A saga whose deadline keeps failing (e.g. its stored data no longer
 * passes the current contract) would otherwise be due first on every sweep and stop every saga
 * behind it: it is quarantined instead (a step saying why, its deadline pushed out with back-off,
 * a metric), and the sweep goes on.
 */
@Injectable()
export class SagaDeadlineTimer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('SagaDeadlineTimer');
  private stopping = false;
  private loop?: Promise<void>;

  constructor(
    private readonly transactions: Transactions,
    private readonly store: SagaStore,
    private readonly sagas: SagaRunner,
  ) {}

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        const acted = await this.sweep();
        if (acted < BATCH) await sleep(TICK_MS);
      } catch (error) {
        this.logger.warn(`deadline sweep failed, retrying: ${(error as Error).message}`);
        await sleep(1000);
      }
    }
  }

  /**
   * Moves up to {@link BATCH} due sagas, one transaction each.
   * @returns how many sagas were moved or quarantined: 0 when nothing is due.
   */
  async sweep(): Promise<number> {
    let acted = 0;
    while (acted < BATCH && !this.stopping) {
      const outcome = await this.expireNext();
      if (outcome === 'none') break;
      if (outcome === 'transient') throw new Error('a deadline hit a transient fault; the sweep pauses');
      acted++;
    }
    return acted;
  }

  private async expireNext(): Promise<'expired' | 'quarantined' | 'none' | 'transient'> {
    let claimed: string | undefined;
    try {
      const expired = await this.transactions.run(async (tx) => {
        // The due saga comes locked with its state: the move needs no second read.
        const due = await this.store.claimDue(tx);
        if (!due) return false;
        claimed = due.orderId;
        const parent = contextFromTraceparent({
          traceparent: due.traceparent ?? undefined,
          tracestate: due.tracestate ?? undefined,
        });
        // The retry or compensation joins the order's trace and carries its correlation id.
        await context.with(parent, () =>
          runWithMessageContext({ correlationId: due.correlationId }, () =>
            withSpan('order saga deadline', { 'order.id': due.orderId }, () =>
              this.sagas.move(due, tx, (saga, now) => onDeadline(saga, now, this.sagas.policy)),
            ),
          ),
        );
        return true;
      });
      return expired ? 'expired' : 'none';
    } catch (error) {
      // The database or its connection is failing: every saga would fail alike, and none of
      // them is at fault. Wait it out instead of quarantining healthy sagas.
      if (claimed === undefined || isTransient(error)) return 'transient';
      await this.quarantine(claimed, error);
      return 'quarantined';
    }
  }

  private async quarantine(orderId: string, error: unknown): Promise<void> {
    const reason = (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(
      0,
      1000,
    );
    // The pushed-out deadline and the step saying why, in one statement. `previous` reads the
    // statement's snapshot: the quarantines before this one.
    const [row] = await this.transactions.run((tx) =>
      tx.query<{ delayMs: number }>(
        `WITH previous AS (
           SELECT least(count(*), 30)::int AS n FROM saga_step WHERE order_id = $1::uuid AND outcome = 'quarantined'
         ), pushed AS (
           UPDATE saga SET deadline_at = now() + d.ms * interval '1 millisecond', updated_at = now()
             FROM previous, LATERAL (SELECT least($2::double precision * 2 ^ previous.n, $3::double precision) AS ms) d
            WHERE order_id = $1::uuid
           RETURNING d.ms
         ), step AS (
           INSERT INTO saga_step (order_id, name, outcome, detail) VALUES ($1::uuid, 'deadline', 'quarantined', $4)
         )
         SELECT ms::double precision AS "delayMs" FROM pushed`,
        [orderId, QUARANTINE_BASE_MS, QUARANTINE_CAP_MS, reason],
      ),
    );
    const delayMs = row?.delayMs;
    quarantined.add(1);
    this.logger.error(
      { orderId, err: error, retryInMs: delayMs },
      'saga deadline failed: quarantined, the other sagas go on',
    );
  }
}
