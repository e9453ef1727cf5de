import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { CancelShipment } from '@order-saga/contracts';
import { Outbox } from '@order-saga/outbox';
import { decideCancelShipment } from '../domain/shipment.js';
import { lockShipment, saveShipment } from '../infra/prisma-shipment.store.js';
import type { Tx } from '../infra/prisma.service.js';

/** `CancelShipment`, to be applied in `tx`: the transaction the inbox record commits in. */
export class CancelShipmentCommand extends Command<void> {
  constructor(
    readonly message: CancelShipment,
    readonly tx: Tx,
  ) {
    super();
  }
}

@CommandHandler(CancelShipmentCommand)
export class CancelShipmentHandler implements ICommandHandler<CancelShipmentCommand> {
  constructor(private readonly outbox: Outbox) {}

  async execute({ message, tx }: CancelShipmentCommand): Promise<void> {
    const current = await lockShipment(tx, message.orderId);
    const decision = decideCancelShipment(current, message);
    if (decision.shipment) await saveShipment(tx, decision.shipment);
    await this.outbox.enqueue(decision.reply, tx);
  }
}
