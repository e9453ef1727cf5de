import { Controller } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { HandleMessage, type InboxContext, type PgTx } from '@order-saga/consumer';
import type { ChargePayment, RefundPayment } from '@order-saga/contracts';
import { ChargePaymentCommand } from './charge-payment/charge-payment.handler.js';
import { RefundPaymentCommand } from './refund-payment/refund-payment.handler.js';

/**
 * The payment service's commands from the saga, each translated into its use case. Both lock the
 * customer's row, which orders on other partitions lock too: each gets a transaction of its own,
 * or two chunks reaching two customers in opposite orders would deadlock.
 */
@Controller()
export class PaymentMessages {
  constructor(private readonly commands: CommandBus) {}

  @HandleMessage('ChargePayment', { isolation: 'per-message' })
  charge(payload: ChargePayment, ctx: InboxContext<PgTx>): Promise<void> {
    return this.commands.execute(new ChargePaymentCommand(payload, ctx.tx));
  }

  @HandleMessage('RefundPayment', { isolation: 'per-message' })
  refund(payload: RefundPayment, ctx: InboxContext<PgTx>): Promise<void> {
    return this.commands.execute(new RefundPaymentCommand(payload, ctx.tx));
  }
}
