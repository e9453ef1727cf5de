import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PG_POOL } from '@order-saga/platform';
import type pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

/**
 * The payment database through Prisma, for the cold paths only (health, metrics, the retention purge,
 * tests' reads); message handlers write through node-postgres (`PgTx`), which costs far less CPU.
 */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  // On the service's one pool (the platform's), which the hot paths' transactions also use.
  constructor(@Inject(PG_POOL) pool: pg.Pool) {
    super({ adapter: new PrismaPg(pool) });
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
