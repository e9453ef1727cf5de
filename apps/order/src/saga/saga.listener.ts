import { Controller } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { InboxContext, type PgTx } from '@order-saga/consumer';
import { RecordReply } from './record-reply.handler.js';
import type { Reply } from './order.saga.js';

/**
 * The participants' replies, as they arrive: each is turned into a `RecordReply` command. One
 * handler per topic, because every reply on it means the same thing to the saga: "this step
 * answered".
 */
@Controller()
export class SagaListener {
  constructor(private readonly commands: CommandBus) {}

  @EventPattern<string>('inventory.events')
  onInventoryEvent(@Payload() payload: Reply['payload'], @Ctx() ctx: InboxContext<PgTx>): Promise<void> {
    return this.record(payload, ctx);
  }

  @EventPattern<string>('payment.events')
  onPaymentEvent(@Payload() payload: Reply['payload'], @Ctx() ctx: InboxContext<PgTx>): Promise<void> {
    return this.record(payload, ctx);
  }

  @EventPattern<string>('shipping.events')
  onShippingEvent(@Payload() payload: Reply['payload'], @Ctx() ctx: InboxContext<PgTx>): Promise<void> {
    return this.record(payload, ctx);
  }

  private record(payload: Reply['payload'], ctx: InboxContext<PgTx>): Promise<void> {
    const reply = { type: ctx.envelope.type, payload } as Reply;
    return this.commands.execute(new RecordReply(reply, ctx.tx));
  }
}
