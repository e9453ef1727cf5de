import { Controller } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { HandleMessage, type InboxContext, type PgTx } from '@order-saga/consumer';
import type { OrderConfirmed, ReleaseStock, ReserveStock } from '@order-saga/contracts';
import { CommitStockCommand } from './commit-stock/commit-stock.handler.js';
import { ReleaseStockCommand } from './release-stock/release-stock.handler.js';
import { ReserveStockCommand } from './reserve-stock/reserve-stock.handler.js';

/**
 * Translates each message the inventory service consumes into its in-process command. Each one
 * locks product rows that other orders lock too, so each gets a transaction of its own: in a
 * chunk, locks would pile up across messages in message order and deadlock against another
 * partition's chunk.
 */
@Controller()
export class InventoryMessages {
  constructor(private readonly commands: CommandBus) {}

  @HandleMessage('ReserveStock', { isolation: 'per-message' })
  async reserveStock(command: ReserveStock, ctx: InboxContext<PgTx>): Promise<void> {
    await this.commands.execute(new ReserveStockCommand(command, ctx.tx));
  }

  @HandleMessage('ReleaseStock', { isolation: 'per-message' })
  async releaseStock(command: ReleaseStock, ctx: InboxContext<PgTx>): Promise<void> {
    await this.commands.execute(new ReleaseStockCommand(command, ctx.tx));
  }

  @HandleMessage('OrderConfirmed', { isolation: 'per-message' })
  async orderConfirmed(event: OrderConfirmed, ctx: InboxContext<PgTx>): Promise<void> {
    await this.commands.execute(new CommitStockCommand(event, ctx.tx));
  }
}
