import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { PgTx } from '@order-saga/consumer';
import type { OrderConfirmed } from '@order-saga/contracts';
import { commit } from '../domain/reservation.js';
import { StockStore } from '../infra/stock.store.js';

/** Sent in-process when the order service announces `OrderConfirmed`; nobody awaits a reply. */
export class CommitStockCommand {
  constructor(
    readonly event: OrderConfirmed,
    readonly tx: PgTx,
  ) {}
}

@CommandHandler(CommitStockCommand)
export class CommitStockHandler implements ICommandHandler<CommitStockCommand> {
  private readonly logger = new Logger(CommitStockHandler.name);

  constructor(private readonly store: StockStore) {}

  async execute({ event, tx }: CommitStockCommand): Promise<void> {
    const existing = await this.store.reservation(event.orderId, tx);
    const decision = commit(existing, event);
    await this.store.write(decision, existing, tx);
    if (decision.note) this.logger[decision.note.level](decision.note.text);
  }
}
