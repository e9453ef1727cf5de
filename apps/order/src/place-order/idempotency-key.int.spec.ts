import 'reflect-metadata';
import { loadConfig } from '@order-saga/config';
import { createScratchDatabase, serviceSchema, type ScratchDatabase } from '@order-saga/database';
import { Outbox } from '@order-saga/outbox';
import {
  RetentionPurgeService,
  Transactions,
  type PrismaLike,
  type ServiceConfig,
} from '@order-saga/platform';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PrismaService } from '../infra/prisma.service.js';
import { SagaStore } from '../infra/saga.store.js';
import { sagaPolicyFrom } from '../saga/saga-policy.js';
import { IdempotencyKeyPurge } from './idempotency-key.purge.js';
import { PlaceOrder, PlaceOrderHandler } from './place-order.handler.js';
import type { PlaceOrderRequest } from './place-order.request.js';

const adminUrl =
  process.env.TEST_DATABASE_ADMIN_URL ??
  process.env.DATABASE_ADMIN_URL ??
  'postgresql://postgres@127.0.0.1:5432/postgres';

const anOrder = (customerId: string): PlaceOrderRequest => ({
  customerId,
  items: [{ sku: 'widget', quantity: 1 }],
  shippingAddress: { country: 'FR', city: 'Lyon', line1: '1 rue de la République' },
});

let db: ScratchDatabase;
let config: ServiceConfig;
let pool: pg.Pool;
let prisma: PrismaService;
let handler: PlaceOrderHandler;

beforeAll(async () => {
  db = await createScratchDatabase({ adminUrl, prefix: 't_idem_keys', ...serviceSchema('order') });
  config = {
    ...loadConfig({ SERVICE_NAME: 'order', DATABASE_URL: db.url, KAFKA_BROKERS: '127.0.0.1:9092' }),
    idempotencyKeyTtlHours: 24,
    inboxRetentionHours: 336,
    purgeBatchSize: 10,
  };
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  prisma = new PrismaService(pool);
  handler = new PlaceOrderHandler(
    new Transactions(pool),
    new SagaStore(new Outbox()),
    sagaPolicyFrom(config),
    config,
  );
});
afterAll(async () => {
  await prisma?.$disconnect();
  await pool?.end();
  await db?.drop();
});

const age = (key: string, hours: number) =>
  prisma.$executeRawUnsafe(
    `UPDATE idempotency_key SET created_at = now() - make_interval(hours => $2) WHERE key = $1`,
    key,
    hours,
  );

describe('idempotency keys', () => {
  it('are honoured until their TTL: the same key and body within 24 h replays the first answer', async () => {
    const first = await handler.execute(new PlaceOrder('key-fresh', anOrder('c-1')));
    await age('key-fresh', 23);
    const again = await handler.execute(new PlaceOrder('key-fresh', anOrder('c-1')));
    expect(again).toEqual({ ...first, replayed: true });
  });

  it('an expired key is not honoured: a request with it is a new request, even before the purge', async () => {
    const first = await handler.execute(new PlaceOrder('key-old', anOrder('c-2')));
    expect(first.kind).toBe('accepted');
    await age('key-old', 25);
    // Another body under the same key: within the TTL this would be "key reused".
    const later = await handler.execute(new PlaceOrder('key-old', anOrder('c-3')));
    expect(later).toMatchObject({ kind: 'accepted', replayed: false });
    if (first.kind !== 'accepted' || later.kind !== 'accepted') throw new Error('unreachable');
    expect(later.response.orderId).not.toBe(first.response.orderId);
    // And the key now belongs to the new order, for another 24 h.
    expect(await handler.execute(new PlaceOrder('key-old', anOrder('c-3')))).toEqual({
      ...later,
      replayed: true,
    });
  });

  it('cost one statement for the claim and the prices: an order is placed in three, a replay answered in two', async () => {
    // Every connection of the pool is a pg.Client: its statements, BEGIN and COMMIT aside.
    const query = vi.spyOn(pg.Client.prototype, 'query');
    const statements = () =>
      query.mock.calls.map(([sent]) => statementText(sent)).filter((text) => !/^(BEGIN|COMMIT)$/.test(text));
    try {
      await handler.execute(new PlaceOrder('key-trips', anOrder('c-4')));
      expect(statements()).toEqual([
        expect.stringMatching(/INSERT INTO idempotency_key[\s\S]*FROM product/),
        expect.stringMatching(/INSERT INTO "order"[\s\S]*INSERT INTO saga_step/),
        expect.stringMatching(/^INSERT INTO outbox/),
      ]);
      query.mockClear();
      expect(await handler.execute(new PlaceOrder('key-trips', anOrder('c-4')))).toMatchObject({
        replayed: true,
      });
      expect(statements()).toEqual([
        expect.stringMatching(/INSERT INTO idempotency_key/),
        expect.stringMatching(/FROM idempotency_key WHERE key/),
      ]);
    } finally {
      query.mockRestore();
    }
  });

  it('expired keys and inbox rows past retention are purged in statements of at most PURGE_BATCH_SIZE rows', async () => {
    await prisma.$executeRawUnsafe(`DELETE FROM idempotency_key`);
    await prisma.$executeRawUnsafe(
      `INSERT INTO idempotency_key (key, request_hash, order_id, response, created_at)
       SELECT 'k-' || i, 'h', gen_random_uuid(), '{}'::jsonb,
              CASE WHEN i <= 25 THEN now() - interval '25 hours' ELSE now() END
         FROM generate_series(1, 30) i`,
    );
    await prisma.$executeRawUnsafe(
      `INSERT INTO inbox (consumer, message_id, topic, partition, "offset", processed_at)
       SELECT 'order', gen_random_uuid(), 't', 0, i,
              CASE WHEN i <= 25 THEN now() - interval '337 hours' ELSE now() - interval '335 hours' END
         FROM generate_series(1, 30) i`,
    );
    const statements: number[] = [];
    const recording: PrismaLike = {
      $transaction: (work, options) => prisma.$transaction(work, options),
      $disconnect: () => prisma.$disconnect(),
      $queryRawUnsafe: async <T>(sql: string, ...values: unknown[]) => {
        const rows = await prisma.$queryRawUnsafe<{ n: bigint }[]>(sql, ...values);
        statements.push(Number(rows[0]?.n));
        return rows as T;
      },
    };
    const purge = new RetentionPurgeService(config, recording);
    new IdempotencyKeyPurge(purge, config);

    expect(await purge.purgeAll()).toEqual({ inbox: 25, idempotency_key: 25 });
    expect(Math.max(...statements)).toBeLessThanOrEqual(10);
    expect(statements).toEqual([10, 10, 5, 10, 10, 5]);
    const left = await prisma.$queryRawUnsafe<{ keys: bigint; inbox: bigint }[]>(
      `SELECT (SELECT count(*) FROM idempotency_key) AS keys, (SELECT count(*) FROM inbox) AS inbox`,
    );
    expect(left[0]).toEqual({ keys: 5n, inbox: 5n });
  });
});

/** The SQL of a `client.query` call: a text, or a (named, prepared) query config. */
function statementText(sent: unknown): string {
  return typeof sent === 'string' ? sent : String((sent as { text: string }).text);
}
