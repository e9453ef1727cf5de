import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { PgTx } from '@order-saga/consumer';
import type { ReserveStock } from '@order-saga/contracts';
import { Outbox } from '@order-saga/outbox';
import { reserve } from '../domain/reservation.js';
import { StockStore } from '../infra/stock.store.js';

export class ReserveStockCommand {
  constructor(
    readonly command: ReserveStock,
    readonly tx: PgTx,
  ) {}
}

@CommandHandler(ReserveStockCommand)
export class ReserveStockHandler implements ICommandHandler<ReserveStockCommand> {
  private readonly logger = new Logger(ReserveStockHandler.name);

  constructor(
    private readonly store: StockStore,
    private readonly outbox: Outbox,
  ) {}

  async execute({ command, tx }: ReserveStockCommand): Promise<void> {
    const existing = await this.store.reservation(command.orderId, tx);
    // A known order is answered from its reservation alone: no product locks needed.
    const stock = existing ? [] : await this.store.lockProducts(command.items.map((line) => line.sku), tx);
    const decision = reserve(existing, command, stock);
    await this.store.write(decision, existing, tx);
    await this.outbox.enqueue(decision.send, tx);
    if (decision.note) this.logger[decision.note.level](decision.note.text);
  }
}
