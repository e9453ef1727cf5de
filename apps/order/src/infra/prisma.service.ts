import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PG_POOL } from '@order-saga/platform';
import type pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  // The cold paths (GET /orders/:id, the admin list, metrics, purges), on the service's one pool
  // (the platform's): the hot paths run SQL on node-postgres transactions from the same pool.
  constructor(@Inject(PG_POOL) pool: pg.Pool) {
    super({ adapter: new PrismaPg(pool) });
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
