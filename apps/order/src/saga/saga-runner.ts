import { Inject, Injectable, Logger } from '@nestjs/common';
import { PermanentError, type PgTx } from '@order-saga/consumer';
import { meter } from '@order-saga/telemetry';
import { SagaStore, type LoadedSaga } from '../infra/saga.store.js';
import { terminalStatuses, type Decision, type OrderSaga, type SagaPolicy } from './order.saga.js';
import { SAGA_POLICY } from './saga-policy.js';

const sagaMeter = meter('order-saga');
const compensationFailed = sagaMeter.createCounter('saga_compensation_failed_total', {
  description: 'Sagas that ended in COMPENSATION_FAILED: a person must finish undoing them',
});
const sagasEnded = sagaMeter.createCounter('saga_ended_total', {
  description: 'Sagas that reached a terminal status, by status',
});
// At 0 from the start, so the alert's rate() has a series to compare with before the first failure.
compensationFailed.add(0);
const sagaDuration = sagaMeter.createHistogram('saga_duration_seconds', {
  description: 'From the order placed to the saga reaching a terminal status, by that status (outcome)',
  unit: 's',
  // Sagas take milliseconds when all goes well and step timeouts (seconds to minutes) when not.
  advice: { explicitBucketBoundaries: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600] },
});

/**
 * The one way a saga moves: lock it, decide with a pure function, save the decision with its
 * messages, in the caller's transaction. Used by the reply listener, the deadline timer and the
 * operator's retry alike.
 */
@Injectable()
export class SagaRunner {
  private readonly logger = new Logger('OrderSaga');

  constructor(
    private readonly store: SagaStore,
    @Inject(SAGA_POLICY) readonly policy: SagaPolicy,
  ) {}

  /**
   * Loads (and locks) the saga of `orderId` and moves it with `decide`. Throws a
   * {@link PermanentError} (dead-lettered by the transport) when there is no such saga or the
   * decision rejects the message.
   */
  async run(orderId: string, tx: PgTx, decide: (saga: OrderSaga, now: Date) => Decision): Promise<Decision> {
    const saga = await this.store.load(orderId, tx);
    // A reply for an order this service never placed cannot be applied, now or later.
    if (!saga) throw new PermanentError(`no saga for order ${orderId}`);
    return this.move(saga, tx, decide);
  }

  /**
   * Moves a saga loaded and locked in `tx` (by {@link SagaStore.load} or {@link SagaStore.claimDue})
   * with `decide`, given the saga and the `now` to decide with.
   */
  async move(
    saga: LoadedSaga,
    tx: PgTx,
    decide: (saga: OrderSaga, now: Date) => Decision,
  ): Promise<Decision> {
    const now = new Date();
    const decision = decide(saga, now);
    // The reply is not this saga's (e.g. a charge of another amount): the transport dead-letters
    // it with this reason, and the saga stays as it was.
    if (decision.rejected !== undefined) throw new PermanentError(decision.rejected);
    await this.store.apply(saga, decision, tx, now);
    // Place → terminal, on the database's clock (the one that stamped the order).
    if (endsNow(saga, decision))
      sagaDuration.record(Math.max(0, saga.orderAgeSeconds), { outcome: decision.saga.status });
    this.report(saga, decision);
    return decision;
  }

  private report(before: OrderSaga, decision: Decision): void {
    const { saga, steps } = decision;
    for (const step of steps)
      // Each step is also a saga_step row (GET /orders/:id): at info, one line per saga ending is enough.
      this.logger.debug({
        orderId: saga.orderId,
        step: step.name,
        outcome: step.outcome,
        detail: step.detail,
      });
    if (!endsNow(before, decision)) return;
    sagasEnded.add(1, { status: saga.status });
    if (saga.status === 'COMPENSATION_FAILED') {
      compensationFailed.add(1);
      // The correlation id is in every log line through the message context.
      this.logger.error(
        { orderId: saga.orderId, pending: saga.pending, reason: saga.reason },
        'saga ended in COMPENSATION_FAILED: needs a person',
      );
    } else {
      this.logger.log(
        { orderId: saga.orderId, status: saga.status, reason: saga.reason },
        `saga ended ${saga.status}`,
      );
    }
  }
}

/** Whether this decision moves the saga into a terminal status (from another status). */
function endsNow(before: OrderSaga, { saga }: Decision): boolean {
  return saga.status !== before.status && (terminalStatuses as readonly string[]).includes(saga.status);
}
