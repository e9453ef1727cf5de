import { createScratchDatabase, serviceSchema, type ScratchDatabase } from '@order-saga/database';
import type { PgTx } from '@order-saga/consumer';
import { Outbox } from '@order-saga/outbox';
import { Transactions } from '@order-saga/platform';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  advance,
  startSaga,
  type Decision,
  type OrderData,
  type Reply,
  type SagaPolicy,
  type Step,
} from '../saga/order.saga.js';
import { PrismaService } from './prisma.service.js';
import { SagaStore } from './saga.store.js';

// The saga store against a real, freshly migrated order database: the rows it writes, the types
// node-postgres hands back, its locks, and how many statements each call costs.
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
  total: 4500,
  items: [
    { sku: 'widget', quantity: 2 },
    { sku: 'gadget', quantity: 1 },
  ],
  address: { country: 'FR', city: 'Paris', line1: '1 rue de Rivoli' },
};
const lines = [
  { sku: 'widget', quantity: 2, unitPrice: 1000 },
  { sku: 'gadget', quantity: 1, unitPrice: 2500 },
];

let db: ScratchDatabase;
let pool: pg.Pool;
let transactions: Transactions;
let prisma: PrismaService;
const store = new SagaStore(new Outbox());

beforeAll(async () => {
  db = await createScratchDatabase({ adminUrl, prefix: 'order_saga_store', ...serviceSchema('order') });
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  transactions = new Transactions(pool);
  // Prisma only to read rows back in the assertions.
  prisma = new PrismaService(pool);
});

afterAll(async () => {
  await prisma?.$disconnect();
  await pool?.end();
  await db?.drop();
});

/** The statements `work` sends on its transaction's connection. */
async function statementsOf(work: (tx: PgTx) => Promise<unknown>): Promise<string[]> {
  return transactions.run(async (tx) => {
    const query = vi.spyOn(tx.client, 'query');
    try {
      await work(tx);
      return query.mock.calls.map(([sent]) => statementText(sent));
    } finally {
      query.mockRestore();
    }
  });
}

async function started(correlationId: string = crypto.randomUUID()): Promise<string> {
  const orderId = crypto.randomUUID();
  const now = new Date();
  await transactions.run((tx) =>
    store.start(startSaga(orderId, data, now, policy), { correlationId, lines }, tx, now),
  );
  return orderId;
}

const reply = (type: Reply['type'], orderId: string, payload: object) =>
  ({ type, payload: { orderId, ...payload } }) as Reply;
const named = (steps: readonly Pick<Step, 'name' | 'outcome'>[]) =>
  steps.map((s) => `${s.name}:${s.outcome}`);
const stepsOf = async (orderId: string) =>
  named(await prisma.sagaStep.findMany({ where: { orderId }, orderBy: { id: 'asc' } }));
const sentFor = async (orderId: string) =>
  (await prisma.outbox.findMany({ where: { aggregateId: orderId }, orderBy: { seq: 'asc' } })).map(
    (row) => row.type,
  );

describe('SagaStore.start', () => {
  it('writes the order, its lines, its saga and its first step in one statement, and its messages in a second', async () => {
    const orderId = crypto.randomUUID();
    const now = new Date();
    const decision = startSaga(orderId, data, now, policy);

    const statements = await statementsOf((tx) =>
      store.start(decision, { correlationId: 'corr-start', lines }, tx, now),
    );

    expect(statements).toHaveLength(2);
    expect(statements[1]).toMatch(/^INSERT INTO outbox/);
    const order = await prisma.order.findUniqueOrThrow({
      where: { id: orderId },
      include: { items: { orderBy: { sku: 'asc' } } },
    });
    expect(order).toMatchObject({
      customerId: 'alice',
      status: 'PENDING',
      reason: null,
      total: 4500,
      country: 'FR',
      city: 'Paris',
      line1: '1 rue de Rivoli',
      correlationId: 'corr-start',
    });
    expect(order.items.map(({ sku, quantity, unitPrice }) => ({ sku, quantity, unitPrice }))).toEqual([
      { sku: 'gadget', quantity: 1, unitPrice: 2500 },
      { sku: 'widget', quantity: 2, unitPrice: 1000 },
    ]);
    expect(await prisma.saga.findUniqueOrThrow({ where: { orderId } })).toMatchObject({
      status: 'RESERVING',
      attempt: 1,
      pending: [],
      compensated: [],
      reason: null,
      data,
      version: 0,
      deadlineAt: expect.any(Date),
    });
    expect(await stepsOf(orderId)).toEqual(['reserve-stock:requested']);
    expect(await sentFor(orderId)).toEqual(['OrderPlaced', 'ReserveStock']);
  });

  it('leaves nothing behind when the transaction rolls back', async () => {
    const orderId = crypto.randomUUID();
    const now = new Date();
    await expect(
      transactions.run(async (tx) => {
        await store.start(startSaga(orderId, data, now, policy), { correlationId: 'c', lines }, tx, now);
        throw new Error('refused after the writes');
      }),
    ).rejects.toThrow('refused after the writes');

    expect(await prisma.order.count({ where: { id: orderId } })).toBe(0);
    expect(await prisma.orderItem.count({ where: { orderId } })).toBe(0);
    expect(await prisma.saga.count({ where: { orderId } })).toBe(0);
    expect(await prisma.outbox.count({ where: { aggregateId: orderId } })).toBe(0);
  });
});

describe('SagaStore.load', () => {
  it('reads the saga in one statement with the types the saga expects: dates, parsed data, arrays, the order correlation id', async () => {
    const orderId = await started('corr-load');

    let statements: string[] = [];
    const saga = await transactions.run(async (tx) => {
      const query = vi.spyOn(tx.client, 'query');
      const loaded = await store.load(orderId, tx);
      statements = query.mock.calls.map(([sent]) => statementText(sent));
      query.mockRestore();
      return loaded;
    });

    expect(statements).toHaveLength(1);
    expect(saga).toEqual({
      orderId,
      status: 'RESERVING',
      attempt: 1,
      deadlineAt: expect.any(Date),
      pending: [],
      compensated: [],
      reason: null,
      data,
      traceparent: null,
      tracestate: null,
      correlationId: 'corr-load',
      orderAgeSeconds: expect.any(Number),
    });
    expect(saga!.orderAgeSeconds).toBeGreaterThanOrEqual(0);
    expect(saga!.orderAgeSeconds).toBeLessThan(60);
  });

  it('answers null for an order without a saga', async () => {
    expect(await transactions.run((tx) => store.load(crypto.randomUUID(), tx))).toBeNull();
  });

  it('locks the saga until the transaction ends: another load waits, the deadline timer skips it', async () => {
    const orderId = await started();
    await prisma.$executeRawUnsafe(
      `UPDATE saga SET deadline_at = now() - interval '1 hour' WHERE order_id = $1::uuid`,
      orderId,
    );
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    const holder = transactions.run(async (tx) => {
      await store.load(orderId, tx);
      locked();
      await held;
    });
    await lockTaken;
    try {
      const waiting = transactions.run(async (tx) => {
        await tx.execute(`SET LOCAL lock_timeout = '200ms'`);
        return store.load(orderId, tx);
      });
      await expect(waiting).rejects.toMatchObject({ code: '55P03' });
      const due = await transactions.run((tx) => store.claimDue(tx));
      expect(due?.orderId).not.toBe(orderId);
    } finally {
      release();
      await holder;
    }
    const due = await transactions.run((tx) => store.claimDue(tx));
    expect(due?.orderId).toBe(orderId);
    await prisma.$executeRawUnsafe(`UPDATE saga SET deadline_at = NULL WHERE order_id = $1::uuid`, orderId);
  });
});

describe('SagaStore.apply', () => {
  it('moves the saga, records its steps and sends its messages in two statements, leaving the order PENDING while it runs', async () => {
    const orderId = await started();
    let decision!: Decision;
    const statements = await statementsOf(async (tx) => {
      const before = (await store.load(orderId, tx))!;
      const now = new Date();
      decision = advance(before, reply('StockReserved', orderId, { items: data.items }), now, policy);
      await store.apply(before, decision, tx, now);
    });

    // The load, the saga + history + order statement, the outbox.
    expect(statements).toHaveLength(3);
    expect(await prisma.saga.findUniqueOrThrow({ where: { orderId } })).toMatchObject({
      status: 'CHARGING',
      version: 1,
    });
    expect(await prisma.order.findUniqueOrThrow({ where: { id: orderId } })).toMatchObject({
      status: 'PENDING',
    });
    expect(await stepsOf(orderId)).toEqual(['reserve-stock:requested', ...named(decision.steps)]);
    expect(await sentFor(orderId)).toEqual(['OrderPlaced', 'ReserveStock', 'ChargePayment']);
  });

  it("sets the order's status and reason when the saga ends, with no deadline left", async () => {
    const orderId = await started();
    let decision!: Decision;
    await transactions.run(async (tx) => {
      const before = (await store.load(orderId, tx))!;
      const now = new Date();
      const unavailable = reply('StockUnavailable', orderId, { reason: 'out_of_stock', sku: 'widget' });
      decision = advance(before, unavailable, now, policy);
      await store.apply(before, decision, tx, now);
    });

    expect(await prisma.saga.findUniqueOrThrow({ where: { orderId } })).toMatchObject({
      status: 'REJECTED',
      deadlineAt: null,
      reason: 'out_of_stock: widget',
    });
    expect(await prisma.order.findUniqueOrThrow({ where: { id: orderId } })).toMatchObject({
      status: 'REJECTED',
      reason: 'out_of_stock: widget',
    });
    // Several steps from one decision, in the decision's order.
    expect(decision.steps.length).toBeGreaterThan(1);
    expect(await stepsOf(orderId)).toEqual(['reserve-stock:requested', ...named(decision.steps)]);
  });

  it('writes nothing for a decision that changes nothing (a duplicate reply)', async () => {
    const orderId = await started();
    const statements = await statementsOf(async (tx) => {
      const before = (await store.load(orderId, tx))!;
      await store.apply(before, { saga: before, send: [], steps: [] }, tx, new Date());
    });

    expect(statements).toHaveLength(1);
    expect(await prisma.saga.findUniqueOrThrow({ where: { orderId } })).toMatchObject({ version: 0 });
    expect(await stepsOf(orderId)).toEqual(['reserve-stock:requested']);
  });
});

/** The SQL of a `client.query` call: a text, or a (named, prepared) query config. */
function statementText(sent: unknown): string {
  return typeof sent === 'string' ? sent : String((sent as { text: string }).text);
}
