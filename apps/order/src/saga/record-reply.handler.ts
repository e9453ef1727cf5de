import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { PgTx } from '@order-saga/consumer';
import { advance, type Reply } from './order.saga.js';
import { SagaRunner } from './saga-runner.js';

/** A participant answered a step of an order's saga. */
export class RecordReply {
  constructor(
    readonly reply: Reply,
    readonly tx: PgTx,
  ) {}
}

@CommandHandler(RecordReply)
export class RecordReplyHandler implements ICommandHandler<RecordReply> {
  constructor(private readonly sagas: SagaRunner) {}

  async execute({ reply, tx }: RecordReply): Promise<void> {
    await this.sagas.run(reply.payload.orderId, tx, (saga, now) =>
      advance(saga, reply, now, this.sagas.policy),
    );
  }
}
