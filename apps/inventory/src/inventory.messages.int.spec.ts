import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { KafkaInboxTransport, RethrowRpcExceptionFilter, pgTransaction } from '@order-saga/consumer';
import { createEnvelope, deadLetterTopic, toKafkaMessage, topicsFor } from '@order-saga/contracts';
import { createScratchDatabase, serviceSchema, type ScratchDatabase } from '@order-saga/database';
import { Outbox, createKafka, ensureTopics } from '@order-saga/outbox';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommitStockHandler } from './commit-stock/commit-stock.handler.js';
import { PrismaClient } from './generated/prisma/client.js';
import { StockStore } from './infra/stock.store.js';
import { InventoryMessages } from './inventory.messages.js';
import { ReleaseStockHandler } from './release-stock/release-stock.handler.js';
import { ReserveStockHandler } from './reserve-stock/reserve-stock.handler.js';

const adminUrl = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const brokers = (process.env.TEST_KAFKA_BROKERS ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const prefix = `t-inventory-locks-${randomBytes(3).toString('hex')}.`;

// The service's message handlers behind the real transport, on real Kafka and PostgreSQL.
@Module({
  imports: [CqrsModule.forRoot()],
  controllers: [InventoryMessages],
  providers: [
    StockStore,
    { provide: Outbox, useValue: new Outbox({ topicPrefix: prefix }) },
    ReserveStockHandler,
    ReleaseStockHandler,
    CommitStockHandler,
  ],
})
class InventoryConsumerModule {}

let db: ScratchDatabase;
let pool: pg.Pool;
// Reads the test's expectations; the handlers write through node-postgres, as in the service.
let prisma: PrismaClient;
let app: INestMicroservice | undefined;

beforeAll(async () => {
  db = await createScratchDatabase({ adminUrl, prefix: 'inventory_locks', ...serviceSchema('inventory') });
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
});

afterAll(async () => {
  await app?.close();
  await prisma?.$disconnect();
  if (pool && !pool.ended) await pool.end();
  await db?.drop();
});

/** Deadlocks PostgreSQL detected in this test's database (its own statistics, flushed within ~1 s). */
async function deadlocks(): Promise<number> {
  const [row] = await prisma.$queryRawUnsafe<{ deadlocks: bigint }[]>(
    'SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()',
  );
  return Number(row!.deadlocks);
}

describe('inventory messages through the Kafka inbox transport', () => {
  it('orders_reaching_the_same_products_in_opposite_orders_on_two_partitions_are_each_reserved_once_without_deadlock', async () => {
    const kafka = createKafka({ clientId: 'inventory-locks-test', brokers });
    const topic = topicsFor(prefix).inventory.commands;
    await ensureTopics(kafka, [topic, deadLetterTopic(topic)], 2);

    // Partition 0 carries widget, gadget, widget, …; partition 1 gadget, widget, gadget, …: a
    // chunk of each, applied at once, reaches the two product rows in opposite orders.
    const perPartition = 100;
    const orders = [0, 1].flatMap((partition) =>
      Array.from({ length: perPartition }, (_, i) => ({
        partition,
        orderId: randomUUID(),
        sku: (i + partition) % 2 === 0 ? 'widget' : 'gadget',
      })),
    );
    const producer = kafka.producer();
    await producer.connect();
    for (const partition of [0, 1]) {
      await producer.send({
        topic,
        messages: orders
          .filter((o) => o.partition === partition)
          .map((o) => ({
            ...toKafkaMessage(
              createEnvelope(
                'ReserveStock',
                { orderId: o.orderId, items: [{ sku: o.sku, quantity: 1 }] },
                { correlationId: o.orderId },
              ),
            ),
            partition,
          })),
      });
    }
    await producer.disconnect();
    const before = await prisma.product.findMany({ orderBy: { sku: 'asc' } });
    const deadlocksBefore = await deadlocks();

    const transport = new KafkaInboxTransport({
      consumerName: 'inventory',
      kafka,
      topicPrefix: prefix,
      transaction: pgTransaction(pool),
      retryBackoffMs: 50,
      maxBackoffMs: 500,
      partitionsConsumedConcurrently: 2,
    });
    app = await NestFactory.createMicroservice(InventoryConsumerModule, { strategy: transport, logger: ['error', 'warn'] });
    app.useGlobalFilters(new RethrowRpcExceptionFilter());
    const started = Date.now();
    await app.listen();
    const deadline = Date.now() + 60_000;
    while ((await prisma.reservation.count()) < orders.length && Date.now() < deadline) await sleep(100);
    const elapsedMs = Date.now() - started;
    console.log(`${orders.length} ReserveStock applied in ${elapsedMs} ms (from listen to the last reservation)`);
    await app.close();
    app = undefined;
    // Statistics reach pg_stat_database when a backend has been idle for a moment.
    await sleep(2000);

    expect(await prisma.reservation.count({ where: { status: 'RESERVED' } })).toBe(orders.length);
    const replies = await prisma.outbox.groupBy({ by: ['aggregateId'], where: { type: 'StockReserved' }, _count: true });
    expect(replies).toHaveLength(orders.length);
    expect(replies.every((r) => r._count === 1)).toBe(true);
    const after = await prisma.product.findMany({ orderBy: { sku: 'asc' } });
    for (const sku of ['gadget', 'widget']) {
      const [b, a] = [before.find((p) => p.sku === sku)!, after.find((p) => p.sku === sku)!];
      expect(a.reserved - b.reserved).toBe(perPartition);
      expect(b.onHand - a.onHand).toBe(perPartition);
    }
    expect(await deadlocks()).toBe(deadlocksBefore);
  });
});
