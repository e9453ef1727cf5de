import { randomUUID } from 'node:crypto';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { PgTx } from '@order-saga/consumer';
import type { ChargePayment } from '@order-saga/contracts';
import { Outbox } from '@order-saga/outbox';
import { decideCharge } from '../domain/payment.js';
import { lockCustomer, lockPayment, saveOutcome } from '../infra/payment.store.js';

export class ChargePaymentCommand extends Command<void> {
  constructor(
    readonly payload: ChargePayment,
    readonly tx: PgTx,
  ) {
    super();
  }
}

@CommandHandler(ChargePaymentCommand)
export class ChargePaymentHandler implements ICommandHandler<ChargePaymentCommand> {
  constructor(private readonly outbox: Outbox) {}

  async execute({ payload, tx }: ChargePaymentCommand): Promise<void> {
    const existing = await lockPayment(tx, payload.orderId);
    // An order already decided never reads the customer: no lock taken on a hot customer row
    // for a mere re-send.
    const customer = existing ? null : await lockCustomer(tx, payload.customerId);
    const outcome = decideCharge(payload, existing, customer, { paymentId: randomUUID(), now: new Date() });
    await saveOutcome(tx, existing, outcome);
    await this.outbox.enqueue(outcome.reply, tx);
  }
}
