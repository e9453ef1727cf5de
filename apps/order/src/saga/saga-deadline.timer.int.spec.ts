import 'reflect-metadata';
import { loadConfig } from '@order-saga/config';
import { createScratchDatabase, serviceSchema, type ScratchDatabase } from '@order-saga/database';
import { Outbox } from '@order-saga/outbox';
import { HealthRegistry, Transactions } from '@order-saga/platform';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrismaService } from '../infra/prisma.service.js';
import { SagaStore } from '../infra/saga.store.js';
import { Backpressure } from '../place-order/backpressure.js';
import { startSaga, type OrderData, type SagaPolicy } from './order.saga.js';
import { SagaDeadlineTimer } from './saga-deadline.timer.js';
import { SagaRunner } from './saga-runner.js';

// The deadline timer and the saga store against a real, freshly migrated order database.
const adminUrl =
  process.env.TEST_DATABASE_ADMIN_URL ??
  process.env.DATABASE_ADMIN_URL ??
  'postgresql://postgres@127.0.0.1:5432/postgres';

const policy: SagaPolicy = {
  stepTimeoutMs: 5000,
  stepMaxAttempts: 3,
  compensationMaxAttempts: 3,
  compensationBackoffMs: 500,
};
const data: OrderData = {
  customerId: 'alice',
  total: 2000,
  items: [{ sku: 'widget', quantity: 2 }],
  address: { country: 'FR', city: 'Paris', line1: '1 rue de Rivoli' },
};

let db: ScratchDatabase;
let pool: pg.Pool;
let transactions: Transactions;
let prisma: PrismaService;
let store: SagaStore;
let runner: SagaRunner;

beforeAll(async () => {
  db = await createScratchDatabase({ adminUrl, prefix: 'order_timer', ...serviceSchema('order') });
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  transactions = new Transactions(pool);
  // Prisma only to read rows back in the assertions.
  prisma = new PrismaService(pool);
  store = new SagaStore(new Outbox());
  runner = new SagaRunner(store, policy);
});

afterAll(async () => {
  await prisma?.$disconnect();
  await pool?.end();
  await db?.drop();
});

/** Places an order and starts its saga, deciding with the app clock `appNow`. */
async function placed(orderData: OrderData = data, appNow = new Date()): Promise<string> {
  const orderId = crypto.randomUUID();
  const decision = startSaga(orderId, orderData, appNow, policy);
  await transactions.run((tx) =>
    store.start(decision, { correlationId: crypto.randomUUID(), lines: [] }, tx, appNow),
  );
  return orderId;
}

/** A saga stored before a contract change: its ChargePayment can no longer be built. */
async function broken(): Promise<string> {
  const orderId = await placed();
  await prisma.$executeRawUnsafe(
    `UPDATE saga SET data = jsonb_set(data, '{customerId}', '""') WHERE order_id = $1::uuid`,
    orderId,
  );
  return orderId;
}

/** Makes a saga charging and overdue by `ago`: what a saga looks like when its deadline passes. */
async function overdue(orderId: string, ago: string): Promise<void> {
  await prisma.$executeRawUnsafe(
    `UPDATE saga SET status = 'CHARGING', deadline_at = now() - $2::interval WHERE order_id = $1::uuid`,
    orderId,
    ago,
  );
}

const sagaOf = (orderId: string) => prisma.saga.findUniqueOrThrow({ where: { orderId } });
const stepsOf = async (orderId: string) =>
  (await prisma.sagaStep.findMany({ where: { orderId }, orderBy: { id: 'asc' } })).map(
    (s) => `${s.name}:${s.outcome}`,
  );
/** How far in the future the saga's deadline is, on the database's own clock, in ms. */
const deadlineInMs = async (orderId: string) =>
  (
    await prisma.$queryRawUnsafe<{ ms: number }[]>(
      `SELECT (extract(epoch FROM deadline_at - now()) * 1000)::float8 AS ms FROM saga WHERE order_id = $1::uuid`,
      orderId,
    )
  )[0]!.ms;

describe('saga deadline timer', () => {
  it('quarantines a saga whose stored data no longer validates, due first on every sweep, and still advances the other due sagas', async () => {
    const poisoned = await broken();
    const healthy = [await placed(), await placed(), await placed()];
    await overdue(poisoned, '1 hour');
    for (const orderId of healthy) await overdue(orderId, '1 minute');

    const timer = new SagaDeadlineTimer(transactions, store, runner);
    timer.onApplicationBootstrap();
    try {
      await expect
        .poll(async () => Promise.all(healthy.map(async (id) => (await sagaOf(id)).attempt)), {
          timeout: 5000,
        })
        .toEqual([2, 2, 2]);
    } finally {
      await timer.onApplicationShutdown();
    }
    for (const orderId of healthy) {
      expect(await stepsOf(orderId)).toContain('charge-payment:retried');
      expect(await prisma.outbox.count({ where: { aggregateId: orderId, type: 'ChargePayment' } })).toBe(1);
    }
    expect(await stepsOf(poisoned)).toContain('deadline:quarantined');
    const step = await prisma.sagaStep.findFirstOrThrow({
      where: { orderId: poisoned, outcome: 'quarantined' },
    });
    expect(step.detail).toMatch(/customerId/);
    // Pushed out with back-off, unchanged otherwise: a person can look at it, nothing was sent.
    expect(await deadlineInMs(poisoned)).toBeGreaterThan(1000);
    expect(await sagaOf(poisoned)).toMatchObject({ status: 'CHARGING', attempt: 1 });
    expect(await prisma.outbox.count({ where: { aggregateId: poisoned, type: 'ChargePayment' } })).toBe(0);
  });

  it('counts the sagas it acted on, not the rows it looked at', async () => {
    const timer = new SagaDeadlineTimer(transactions, store, runner);
    expect(await timer.sweep()).toBe(0);
    const orderId = await placed();
    await overdue(orderId, '1 second');
    expect(await timer.sweep()).toBe(1);
    expect(await timer.sweep()).toBe(0);
  });

  it('backs a quarantined saga off further each time it fails again', async () => {
    const poisoned = await broken();
    const timer = new SagaDeadlineTimer(transactions, store, runner);
    await overdue(poisoned, '1 second');
    await timer.sweep();
    const first = await deadlineInMs(poisoned);
    await overdue(poisoned, '1 second');
    await timer.sweep();
    expect(await deadlineInMs(poisoned)).toBeGreaterThan(first + 2000);
  });
});

describe('backpressure', () => {
  it('still counts a saga that raised COMPENSATION_FAILED while its compensations are pending', async () => {
    const orderId = await placed();
    // The last send of an unanswered refund and release: the next deadline raises the alarm.
    await prisma.$executeRawUnsafe(
      `UPDATE saga SET status = 'COMPENSATING', attempt = $2, pending = '{payment,stock}', reason = 'x',
              deadline_at = now() - interval '1 second'
        WHERE order_id = $1::uuid`,
      orderId,
      policy.compensationMaxAttempts,
    );
    await new SagaDeadlineTimer(transactions, store, runner).sweep();
    expect(await sagaOf(orderId)).toMatchObject({ status: 'COMPENSATION_FAILED' });

    const config = loadConfig({
      SERVICE_NAME: 'order',
      DATABASE_URL: db.url,
      KAFKA_BROKERS: '127.0.0.1:9092',
    });
    const health = new HealthRegistry();
    const backpressure = new Backpressure(pool, health, config);
    backpressure.onModuleInit();
    await backpressure.onApplicationBootstrap();
    try {
      const inFlight = await prisma.$queryRawUnsafe<{ order_id: string }[]>(
        'SELECT order_id::text FROM saga WHERE deadline_at IS NOT NULL',
      );
      expect(inFlight.map((row) => row.order_id)).toContain(orderId);
      const figures = (await health.collect())['backpressure'] as { sagasInFlight: { current: number } };
      expect(figures.sagasInFlight.current).toBe(inFlight.length);
    } finally {
      backpressure.onModuleDestroy();
    }
  });
});

describe('saga deadlines use the database clock', () => {
  it("a new saga's deadline is the database's now() plus the step timeout, even when the app clock is an hour ahead", async () => {
    const appClockAhead = new Date(Date.now() + 3_600_000);
    const orderId = await placed(data, appClockAhead);
    const inMs = await deadlineInMs(orderId);
    expect(inMs).toBeGreaterThan(policy.stepTimeoutMs - 2000);
    expect(inMs).toBeLessThanOrEqual(policy.stepTimeoutMs);
  });

  it("a saga moved by a decision gets its deadline from the database's now(), even when the app clock is an hour behind", async () => {
    const orderId = await placed();
    const appClockBehind = new Date(Date.now() - 3_600_000);
    await transactions.run(async (tx) => {
      const before = (await store.load(orderId, tx))!;
      const decision = startSaga(orderId, data, appClockBehind, policy);
      await store.apply(
        before,
        { ...decision, saga: { ...decision.saga, attempt: 2 }, send: [] },
        tx,
        appClockBehind,
      );
    });
    const inMs = await deadlineInMs(orderId);
    expect(inMs).toBeGreaterThan(policy.stepTimeoutMs - 2000);
    expect(inMs).toBeLessThanOrEqual(policy.stepTimeoutMs);
  });
});
