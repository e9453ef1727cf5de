import { Controller } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { HandleMessage, InboxContext, type PgTx } from '@order-saga/consumer';
import type { CancelShipment, CreateShipment } from '@order-saga/contracts';
import { CancelShipmentCommand } from './cancel-shipment/cancel-shipment.handler.js';
import { CreateShipmentCommand } from './create-shipment/create-shipment.handler.js';

/** The shipping commands from the order saga, each turned into the use case that applies it. */
@Controller()
export class ShippingMessages {
  constructor(private readonly commands: CommandBus) {}

  @HandleMessage('CreateShipment')
  create(message: CreateShipment, ctx: InboxContext<PgTx>): Promise<void> {
    return this.commands.execute(new CreateShipmentCommand(message, ctx.tx));
  }

  @HandleMessage('CancelShipment')
  cancel(message: CancelShipment, ctx: InboxContext<PgTx>): Promise<void> {
    return this.commands.execute(new CancelShipmentCommand(message, ctx.tx));
  }
}
