import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, type ServiceConfig } from '@order-saga/platform';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient, type Prisma } from '../generated/prisma/client.js';

/** The shipping database's transaction client: what message handlers get as `ctx.tx`. */
export type Tx = Prisma.TransactionClient;

@Injectable()
export class PrismaService extends PrismaClient implements OnApplicationShutdown {
  constructor(@Inject(CONFIG) config: ServiceConfig) {
    super({ adapter: new PrismaPg({ connectionString: config.databaseUrl }) });
  }

  // Not onModuleDestroy: Nest runs that before it stops the message transport, and a handler still
  // in flight would lose its connection mid-transaction.
  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect();
  }
}
