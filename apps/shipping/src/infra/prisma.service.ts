import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { PG_POOL } from '@order-saga/platform';
import type pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

/**
 * The shipping database through Prisma, for the cold paths only (health, metrics, the retention purge,
 * tests' reads); message handlers write through node-postgres (`PgTx`), which costs far less CPU.
 */
@Injectable()
export class PrismaService extends PrismaClient implements OnApplicationShutdown {
  // On the service's one pool (the platform's), which the hot paths' transactions also use.
  constructor(@Inject(PG_POOL) pool: pg.Pool) {
    super({ adapter: new PrismaPg(pool) });
  }

  // Not onModuleDestroy: Nest runs that before it stops the message transport, and a handler still
  // in flight would lose its connection mid-transaction.
  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect();
  }
}
