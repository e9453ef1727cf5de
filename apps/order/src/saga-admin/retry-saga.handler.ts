import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Transactions } from '@order-saga/platform';
import { runWithMessageContext } from '@order-saga/telemetry';
import { SagaStore } from '../infra/saga.store.js';
import { retrySaga, type SagaStatus } from '../saga/order.saga.js';
import { SagaRunner } from '../saga/saga-runner.js';
import { SAGA_VIEW_COLUMNS, toSagaView, type SagaView, type SagaViewRow } from './saga-admin.view.js';

export type RetrySagaOutcome =
  { kind: 'retried'; saga: SagaView } | { kind: 'not-found' } | { kind: 'not-retryable'; status: SagaStatus };

/** An operator resumes the compensations of a saga (see {@link retrySaga}). */
export class RetrySaga extends Command<RetrySagaOutcome> {
  constructor(readonly orderId: string) {
    super();
  }
}

@CommandHandler(RetrySaga)
export class RetrySagaHandler implements ICommandHandler<RetrySaga> {
  constructor(
    private readonly transactions: Transactions,
    private readonly store: SagaStore,
    private readonly sagas: SagaRunner,
  ) {}

  execute({ orderId }: RetrySaga): Promise<RetrySagaOutcome> {
    return this.transactions.run(async (tx) => {
      const saga = await this.store.load(orderId, tx);
      if (!saga) return { kind: 'not-found' };
      // The re-sent compensations belong to the order's flow: its correlation id, not a new one.
      const decision = await runWithMessageContext({ correlationId: saga.correlationId }, () =>
        this.sagas.move(saga, tx, (s, now) => retrySaga(s, now, this.sagas.policy)),
      );
      if (decision.saga === saga) return { kind: 'not-retryable', status: saga.status };
      // The deadline and the update time as the database stamped them.
      const [row] = await tx.query<SagaViewRow>(
        `SELECT ${SAGA_VIEW_COLUMNS} FROM saga WHERE order_id = $1::uuid`,
        [orderId],
      );
      return { kind: 'retried', saga: toSagaView(row!) };
    });
  }
}
