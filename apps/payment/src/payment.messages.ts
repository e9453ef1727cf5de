import { Controller } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { HandleMessage, type InboxContext } from '@order-saga/consumer';
import type { ChargePayment, RefundPayment } from '@order-saga/contracts';
import { ChargePaymentCommand } from './charge-payment/charge-payment.handler.js';
import type { Tx } from './infra/prisma.service.js';
import { RefundPaymentCommand } from './refund-payment/refund-payment.handler.js';

/** The payment service's commands from the saga, each translated into its use case. */
@Controller()
export class PaymentMessages {
  constructor(private readonly commands: CommandBus) {}

  @HandleMessage('ChargePayment')
  charge(payload: ChargePayment, ctx: InboxContext<Tx>): Promise<void> {
    return this.commands.execute(new ChargePaymentCommand(payload, ctx.tx));
  }

  @HandleMessage('RefundPayment')
  refund(payload: RefundPayment, ctx: InboxContext<Tx>): Promise<void> {
    return this.commands.execute(new RefundPaymentCommand(payload, ctx.tx));
  }
}
