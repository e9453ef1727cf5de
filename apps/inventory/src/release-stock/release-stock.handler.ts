import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { PgTx } from '@order-saga/consumer';
import type { ReleaseStock } from '@order-saga/contracts';
import { Outbox } from '@order-saga/outbox';
import { release } from '../domain/reservation.js';
import { StockStore } from '../infra/stock.store.js';

export class ReleaseStockCommand {
  constructor(
    readonly command: ReleaseStock,
    readonly tx: PgTx,
  ) {}
}

@CommandHandler(ReleaseStockCommand)
export class ReleaseStockHandler implements ICommandHandler<ReleaseStockCommand> {
  private readonly logger = new Logger(ReleaseStockHandler.name);

  constructor(
    private readonly store: StockStore,
    private readonly outbox: Outbox,
  ) {}

  async execute({ command, tx }: ReleaseStockCommand): Promise<void> {
    const existing = await this.store.reservation(command.orderId, tx);
    const decision = release(existing, command);
    await this.store.write(decision, existing, tx);
    await this.outbox.enqueue(decision.send, tx);
    if (decision.note) this.logger[decision.note.level](decision.note.text);
  }
}
