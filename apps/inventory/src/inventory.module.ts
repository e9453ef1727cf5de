import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { ServicePlatformModule } from '@order-saga/platform';
import { CommitStockHandler } from './commit-stock/commit-stock.handler.js';
import { PrismaService } from './infra/prisma.service.js';
import { StockStore } from './infra/stock.store.js';
import { InventoryMessages } from './inventory.messages.js';
import { ReleaseStockHandler } from './release-stock/release-stock.handler.js';
import { ReserveStockHandler } from './reserve-stock/reserve-stock.handler.js';

@Module({
  imports: [
    ServicePlatformModule.forRoot({ prisma: PrismaService }),
    CqrsModule.forRoot(),
  ],
  controllers: [InventoryMessages],
  providers: [StockStore, ReserveStockHandler, ReleaseStockHandler, CommitStockHandler],
})
export class InventoryModule {}
