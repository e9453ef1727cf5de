import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { pgTransaction, type PgTx } from '@order-saga/consumer';
import type { ChargePayment, RefundPayment } from '@order-saga/contracts';
import { createScratchDatabase, serviceSchema, type ScratchDatabase } from '@order-saga/database';
import { Outbox } from '@order-saga/outbox';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChargePaymentCommand, ChargePaymentHandler } from '../charge-payment/charge-payment.handler.js';
import { PrismaClient } from '../generated/prisma/client.js';
import { RefundPaymentCommand, RefundPaymentHandler } from '../refund-payment/refund-payment.handler.js';

// The handlers run exactly as the inbox transport runs them: inside one node-postgres transaction,
// with the real outbox writing into the same transaction. Only Kafka is left out.
const adminUrl =
  process.env.TEST_DATABASE_ADMIN_URL ??
  process.env.DATABASE_ADMIN_URL ??
  'postgresql://postgres@127.0.0.1:5432/postgres';

let db: ScratchDatabase;
let pool: pg.Pool;
// Reads the tests' expectations (and breaks rules on purpose); the handlers write through node-postgres.
let prisma: PrismaClient;
const outbox = new Outbox();
const chargeHandler = new ChargePaymentHandler(outbox);
const refundHandler = new RefundPaymentHandler(outbox);

const transaction = <T>(work: (tx: PgTx) => Promise<T>) => pgTransaction(pool)(work, { timeoutMs: 5000 });
const charge = (payload: ChargePayment) =>
  transaction((tx) => chargeHandler.execute(new ChargePaymentCommand(payload, tx)));
const refund = (payload: RefundPayment) =>
  transaction((tx) => refundHandler.execute(new RefundPaymentCommand(payload, tx)));

const credit = async (id: string) =>
  (await prisma.customer.findUniqueOrThrow({ where: { id } })).availableCredit;
const paymentsOf = (orderId: string) => prisma.payment.findMany({ where: { orderId } });
const sent = async (orderId: string) =>
  (await prisma.outbox.findMany({ where: { aggregateId: orderId }, orderBy: { seq: 'asc' } })).map((row) => ({
    type: row.type,
    payload: row.payload,
    topic: row.topic,
  }));

/** Backends of this test's database waiting for a row lock. */
async function waitingForLocks(): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
  );
  return rows[0]!.n;
}

async function until(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(20);
  }
}

beforeAll(async () => {
  db = await createScratchDatabase({ adminUrl, prefix: 'payment_test', ...serviceSchema('payment') });
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
});

afterAll(async () => {
  await prisma?.$disconnect();
  if (pool && !pool.ended) await pool.end();
  await db?.drop();
});

describe('payment handlers on PostgreSQL', () => {
  it('every migrated database has the seeded customers with their full credit', async () => {
    const customers = await prisma.customer.findMany({ orderBy: { id: 'asc' } });
    expect(customers).toEqual([
      { id: 'alice', name: 'Alice', creditLimit: 100_000_000, availableCredit: 100_000_000 },
      { id: 'bob', name: 'Bob', creditLimit: 5000, availableCredit: 5000 },
    ]);
  });

  it('a charge takes the credit once, however many times the command is delivered', async () => {
    const orderId = randomUUID();
    const before = await credit('alice');

    await charge({ orderId, customerId: 'alice', amount: 2599 });
    await charge({ orderId, customerId: 'alice', amount: 2599 });

    expect(await credit('alice')).toBe(before - 2599);
    const [payment, ...others] = await paymentsOf(orderId);
    expect(others).toEqual([]);
    expect(payment).toMatchObject({ status: 'CHARGED', customerId: 'alice', amount: 2599, refundedAt: null });
    expect(payment?.paymentId).toMatch(/^[0-9a-f-]{36}$/);
    expect(payment?.chargedAt).toBeInstanceOf(Date);
    const reply = {
      type: 'PaymentCharged',
      payload: { orderId, paymentId: payment?.paymentId, amount: 2599 },
      topic: 'payment.events',
    };
    expect(await sent(orderId)).toEqual([reply, reply]);
  });

  it('a charge above the available credit is declined, takes nothing, and is declined again when re-sent', async () => {
    const orderId = randomUUID();
    const before = await credit('bob');

    await charge({ orderId, customerId: 'bob', amount: before + 1 });
    await charge({ orderId, customerId: 'bob', amount: before + 1 });

    expect(await credit('bob')).toBe(before);
    expect(await paymentsOf(orderId)).toMatchObject([
      { status: 'DECLINED', reason: 'credit_limit_exceeded', paymentId: null },
    ]);
    const reply = {
      type: 'PaymentDeclined',
      payload: { orderId, reason: 'credit_limit_exceeded' },
      topic: 'payment.events',
    };
    expect(await sent(orderId)).toEqual([reply, reply]);
  });

  it('a charge for an unknown customer is declined as customer_unknown', async () => {
    const orderId = randomUUID();

    await charge({ orderId, customerId: 'mallory', amount: 100 });

    expect(await paymentsOf(orderId)).toMatchObject([
      { status: 'DECLINED', reason: 'customer_unknown', customerId: 'mallory' },
    ]);
    expect(await sent(orderId)).toEqual([
      { type: 'PaymentDeclined', payload: { orderId, reason: 'customer_unknown' }, topic: 'payment.events' },
    ]);
  });

  it('a refund gives the charge back once, however many times it is delivered, and the order cannot be charged again', async () => {
    const orderId = randomUUID();
    const before = await credit('alice');
    await charge({ orderId, customerId: 'alice', amount: 4200 });

    await refund({ orderId, reason: 'shipment refused' });
    await refund({ orderId, reason: 'shipment refused' });
    await charge({ orderId, customerId: 'alice', amount: 4200 });

    expect(await credit('alice')).toBe(before);
    const [payment, ...others] = await paymentsOf(orderId);
    expect(others).toEqual([]);
    expect(payment).toMatchObject({ status: 'REFUNDED', amount: 4200, reason: 'shipment refused' });
    expect(payment?.refundedAt).toBeInstanceOf(Date);
    const refunded = {
      type: 'PaymentRefunded',
      payload: { orderId, paymentId: payment?.paymentId, amount: 4200 },
      topic: 'payment.events',
    };
    expect((await sent(orderId)).slice(1)).toEqual([
      refunded,
      refunded,
      { type: 'PaymentDeclined', payload: { orderId, reason: 'order_cancelled' }, topic: 'payment.events' },
    ]);
  });

  it('a refund of an order never charged leaves a tombstone, and a later charge of it is declined', async () => {
    const orderId = randomUUID();
    const before = await credit('alice');

    await refund({ orderId, reason: 'payment reply timed out' });
    await refund({ orderId, reason: 'payment reply timed out' });
    await charge({ orderId, customerId: 'alice', amount: 999 });

    expect(await credit('alice')).toBe(before);
    expect(await paymentsOf(orderId)).toMatchObject([
      { status: 'VOIDED', amount: 0, paymentId: null, reason: 'payment reply timed out' },
    ]);
    const nothing = { type: 'PaymentRefunded', payload: { orderId, amount: 0 }, topic: 'payment.events' };
    expect(await sent(orderId)).toEqual([
      nothing,
      nothing,
      { type: 'PaymentDeclined', payload: { orderId, reason: 'order_cancelled' }, topic: 'payment.events' },
    ]);
  });

  it('a refund of a declined payment acknowledges zero and leaves it declined', async () => {
    const orderId = randomUUID();
    await charge({ orderId, customerId: 'mallory', amount: 100 });

    await refund({ orderId, reason: 'stock released' });

    expect(await paymentsOf(orderId)).toMatchObject([{ status: 'DECLINED', reason: 'customer_unknown' }]);
    expect((await sent(orderId)).at(-1)).toEqual({
      type: 'PaymentRefunded',
      payload: { orderId, amount: 0 },
      topic: 'payment.events',
    });
  });

  it('concurrent charges of one customer never spend more than the available credit', async () => {
    const before = await credit('bob');
    const amount = Math.floor(before / 2) + 1;
    const orders = Array.from({ length: 4 }, () => randomUUID());

    await Promise.all(orders.map((orderId) => charge({ orderId, customerId: 'bob', amount })));

    const payments = await prisma.payment.findMany({ where: { orderId: { in: orders } } });
    expect(payments.filter((p) => p.status === 'CHARGED')).toHaveLength(1);
    expect(payments.filter((p) => p.status === 'DECLINED')).toHaveLength(3);
    expect(await credit('bob')).toBe(before - amount);
  });

  it('two first charges of one order racing: the primary key refuses the second, which takes no credit, and its retry repeats the reply', async () => {
    const orderId = randomUUID();
    const before = await credit('alice');
    let rowWritten!: () => void;
    const written = new Promise<void>((resolve) => (rowWritten = resolve));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = transaction(async (tx) => {
      await chargeHandler.execute(new ChargePaymentCommand({ orderId, customerId: 'alice', amount: 700 }, tx));
      rowWritten();
      await held;
    });
    await written;

    // The second finds no payment (the first has not committed), then waits for the customer's row.
    const second = charge({ orderId, customerId: 'alice', amount: 700 });
    // Its refusal is expected: watched from now on, so it never counts as an unhandled rejection
    // while the first transaction commits.
    const refused = expect(second).rejects.toMatchObject({ code: '23505' });
    await until(async () => (await waitingForLocks()) === 1);
    release();
    await first;
    await refused;
    await charge({ orderId, customerId: 'alice', amount: 700 });

    expect(await credit('alice')).toBe(before - 700);
    const [payment, ...others] = await paymentsOf(orderId);
    expect(others).toEqual([]);
    const reply = {
      type: 'PaymentCharged',
      payload: { orderId, paymentId: payment?.paymentId, amount: 700 },
      topic: 'payment.events',
    };
    expect(await sent(orderId)).toEqual([reply, reply]);
  });

  it('the database refuses a negative credit or a credit above the limit, whatever the code does', async () => {
    await expect(
      prisma.customer.update({ where: { id: 'bob' }, data: { availableCredit: -1 } }),
    ).rejects.toThrow(/customer_available_credit_within_limit/);
    await expect(
      prisma.customer.update({ where: { id: 'bob' }, data: { availableCredit: 5001 } }),
    ).rejects.toThrow(/customer_available_credit_within_limit/);
  });

  it('money is conserved: each customer has been charged exactly the sum of its CHARGED payments', async () => {
    const customers = await prisma.customer.findMany();
    const held = await prisma.payment.groupBy({
      by: ['customerId'],
      where: { status: 'CHARGED' },
      _sum: { amount: true },
    });
    for (const customer of customers) {
      const sum = held.find((row) => row.customerId === customer.id)?._sum.amount ?? 0;
      expect(customer.creditLimit - customer.availableCredit, customer.id).toBe(sum);
    }
  });
});
