import { Controller } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { HandleMessage, InboxContext } from '@order-saga/consumer';
import type { CancelShipment, CreateShipment } from '@order-saga/contracts';
import { CancelShipmentCommand } from './cancel-shipment/cancel-shipment.handler.js';
import { CreateShipmentCommand } from './create-shipment/create-shipment.handler.js';
import type { Tx } from './infra/prisma.service.js';

/** The shipping commands from the order saga, each turned into the use case that applies it. */
@Controller()
export class ShippingMessages {
  constructor(private readonly commands: CommandBus) {}

  @HandleMessage('CreateShipment')
  create(message: CreateShipment, ctx: InboxContext<Tx>): Promise<void> {
    return this.commands.execute(new CreateShipmentCommand(message, ctx.tx));
  }

  @HandleMessage('CancelShipment')
  cancel(message: CancelShipment, ctx: InboxContext<Tx>): Promise<void> {
    return this.commands.execute(new CancelShipmentCommand(message, ctx.tx));
  }
}
