import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { PgTx } from '@order-saga/consumer';
import type { CancelShipment } from '@order-saga/contracts';
import { Outbox } from '@order-saga/outbox';
import { decideCancelShipment } from '../domain/shipment.js';
import { lockShipment, saveShipment } from '../infra/shipment.store.js';

/** `CancelShipment`, to be applied in `tx`: the transaction the inbox record commits in. */
export class CancelShipmentCommand extends Command<void> {
  constructor(
    readonly message: CancelShipment,
    readonly tx: PgTx,
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
    if (decision.shipment) await saveShipment(tx, current, decision.shipment);
    await this.outbox.enqueue(decision.reply, tx);
  }
}
