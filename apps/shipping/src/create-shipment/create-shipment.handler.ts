import { randomUUID } from 'node:crypto';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { PgTx } from '@order-saga/consumer';
import type { CreateShipment } from '@order-saga/contracts';
import { Outbox } from '@order-saga/outbox';
import { decideCreateShipment } from '../domain/shipment.js';
import { isCountryServed, lockShipment, saveShipment } from '../infra/shipment.store.js';

/** `CreateShipment`, to be applied in `tx`: the transaction the inbox record commits in. */
export class CreateShipmentCommand extends Command<void> {
  constructor(
    readonly message: CreateShipment,
    readonly tx: PgTx,
  ) {
    super();
  }
}

@CommandHandler(CreateShipmentCommand)
export class CreateShipmentHandler implements ICommandHandler<CreateShipmentCommand> {
  constructor(private readonly outbox: Outbox) {}

  async execute({ message, tx }: CreateShipmentCommand): Promise<void> {
    const current = await lockShipment(tx, message.orderId);
    const countryServed = await isCountryServed(tx, message.address.country);
    const decision = decideCreateShipment(current, message, { countryServed, newShipmentId: randomUUID() });
    if (decision.shipment) await saveShipment(tx, current, decision.shipment);
    await this.outbox.enqueue(decision.reply, tx);
  }
}
