import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { PgTx } from '@order-saga/consumer';
import type { RefundPayment } from '@order-saga/contracts';
import { Outbox } from '@order-saga/outbox';
import { decideRefund } from '../domain/payment.js';
import { lockCustomer, lockPayment, saveOutcome } from '../infra/payment.store.js';

export class RefundPaymentCommand extends Command<void> {
  constructor(
    readonly payload: RefundPayment,
    readonly tx: PgTx,
  ) {
    super();
  }
}

@CommandHandler(RefundPaymentCommand)
export class RefundPaymentHandler implements ICommandHandler<RefundPaymentCommand> {
  constructor(private readonly outbox: Outbox) {}

  async execute({ payload, tx }: RefundPaymentCommand): Promise<void> {
    const existing = await lockPayment(tx, payload.orderId);
    // Only a CHARGED payment gives credit back, so only then is the customer's row needed.
    const customer =
      existing?.status === 'CHARGED' && existing.customerId
        ? await lockCustomer(tx, existing.customerId)
        : null;
    const outcome = decideRefund(payload, existing, customer, { now: new Date() });
    await saveOutcome(tx, existing, outcome);
    await this.outbox.enqueue(outcome.reply, tx);
  }
}
