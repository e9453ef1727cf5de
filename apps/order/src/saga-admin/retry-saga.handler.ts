import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { runWithMessageContext } from '@order-saga/telemetry';
import { PrismaService } from '../infra/prisma.service.js';
import { retrySaga, type SagaStatus } from '../saga/order.saga.js';
import { SagaRunner } from '../saga/saga-runner.js';
import { SAGA_VIEW_COLUMNS, toSagaView, type SagaRow, type SagaView } from './saga-admin.view.js';

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
    private readonly prisma: PrismaService,
    private readonly sagas: SagaRunner,
  ) {}

  execute({ orderId }: RetrySaga): Promise<RetrySagaOutcome> {
    return this.prisma.$transaction(async (tx) => {
      const [order] = await tx.$queryRawUnsafe<{ correlation_id: string }[]>(
        'SELECT correlation_id FROM "order" WHERE id = $1::uuid',
        orderId,
      );
      if (!order) return { kind: 'not-found' };
      // The re-sent compensations belong to the order's flow: its correlation id, not a new one.
      const moved = await runWithMessageContext({ correlationId: order.correlation_id }, () =>
        this.sagas.runIfExists(orderId, tx, (saga, now) => retrySaga(saga, now, this.sagas.policy)),
      );
      if (!moved) return { kind: 'not-found' };
      if (moved.decision.saga === moved.before) return { kind: 'not-retryable', status: moved.before.status };
      const [row] = await tx.$queryRawUnsafe<SagaRow[]>(
        `SELECT ${SAGA_VIEW_COLUMNS} FROM saga WHERE order_id = $1::uuid`,
        orderId,
      );
      return { kind: 'retried', saga: toSagaView(row!) };
    });
  }
}
