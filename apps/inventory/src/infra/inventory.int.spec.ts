import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus, CqrsModule } from '@nestjs/cqrs';
import { TransientError, pgTransaction, type PgTx } from '@order-saga/consumer';
import type { OrderLine } from '@order-saga/contracts';
import { createScratchDatabase, serviceSchema, type ScratchDatabase } from '@order-saga/database';
import { Outbox } from '@order-saga/outbox';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommitStockCommand, CommitStockHandler } from '../commit-stock/commit-stock.handler.js';
import { PrismaClient } from '../generated/prisma/client.js';
import { ReleaseStockCommand, ReleaseStockHandler } from '../release-stock/release-stock.handler.js';
import { ReserveStockCommand, ReserveStockHandler } from '../reserve-stock/reserve-stock.handler.js';
import { StockStore } from './stock.store.js';

const adminUrl = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
// The seed migration's catalogue: the invariant below is checked against it.
const INITIAL_STOCK: Record<string, number> = { widget: 100000, gadget: 10000, 'last-one': 1 };

// The service's handlers and the real Outbox, wired by the CQRS module as in the service, without
// the Kafka transport: each test plays the transport's part by opening the transaction.
@Module({
  imports: [CqrsModule.forRoot()],
  providers: [
    StockStore,
    { provide: Outbox, useValue: new Outbox() },
    ReserveStockHandler,
    ReleaseStockHandler,
    CommitStockHandler,
  ],
})
class HandlersModule {}

let db: ScratchDatabase;
let pool: pg.Pool;
// Reads the tests' expectations; the handlers write through node-postgres, as in the service.
let prisma: PrismaClient;
let app: INestApplicationContext;
let bus: CommandBus;

beforeAll(async () => {
  db = await createScratchDatabase({ adminUrl, prefix: 'inventory_test', ...serviceSchema('inventory') });
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  app = await NestFactory.createApplicationContext(HandlersModule, { logger: ['error'] });
  bus = app.get(CommandBus);
});

afterAll(async () => {
  await app?.close();
  await prisma?.$disconnect();
  if (pool && !pool.ended) await pool.end();
  await db?.drop();
});

// As the inbox transport runs a handler: in one node-postgres transaction of its own.
const transaction = <T>(work: (tx: PgTx) => Promise<T>) => pgTransaction(pool)(work, { timeoutMs: 5000 });
const inTx = (make: (tx: PgTx) => object) => transaction((tx) => bus.execute(make(tx)));
const reserveStock = (orderId: string, items: OrderLine[]) => inTx((tx) => new ReserveStockCommand({ orderId, items }, tx));
const releaseStock = (orderId: string) => inTx((tx) => new ReleaseStockCommand({ orderId, reason: 'payment declined' }, tx));
const orderConfirmed = (orderId: string) => inTx((tx) => new CommitStockCommand({ orderId }, tx));

const store = () => app.get(StockStore);

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

async function product(sku: string) {
  return prisma.product.findUniqueOrThrow({ where: { sku }, select: { onHand: true, reserved: true, shipped: true } });
}

async function outboxFor(orderId: string) {
  const rows = await prisma.outbox.findMany({ where: { aggregateId: orderId }, orderBy: { seq: 'asc' } });
  return rows.map((row) => ({ type: row.type, topic: row.topic, payload: row.payload }));
}

async function reservation(orderId: string) {
  return prisma.reservation.findUnique({
    where: { orderId },
    select: { status: true, items: true, reason: true, sku: true },
  });
}

describe('inventory handlers on PostgreSQL', () => {
  it('seed_migration_gives_every_database_the_catalogue', async () => {
    const products = await prisma.product.findMany({ orderBy: { sku: 'asc' } });
    expect(products.map(({ sku, price, onHand, reserved, shipped }) => ({ sku, price, onHand, reserved, shipped }))).toEqual([
      { sku: 'gadget', price: 2500, onHand: 10000, reserved: 0, shipped: 0 },
      { sku: 'last-one', price: 10000, onHand: 1, reserved: 0, shipped: 0 },
      { sku: 'widget', price: 1000, onHand: 100000, reserved: 0, shipped: 0 },
    ]);
  });

  it('reserve_moves_on_hand_to_reserved_and_a_redelivery_only_repeats_the_reply', async () => {
    const orderId = randomUUID();
    const items = [
      { sku: 'widget', quantity: 3 },
      { sku: 'gadget', quantity: 2 },
      { sku: 'widget', quantity: 1 },
    ];
    const [widget, gadget] = [await product('widget'), await product('gadget')];

    await reserveStock(orderId, items);
    await reserveStock(orderId, items);

    expect(await product('widget')).toEqual({ ...widget, onHand: widget.onHand - 4, reserved: widget.reserved + 4 });
    expect(await product('gadget')).toEqual({ ...gadget, onHand: gadget.onHand - 2, reserved: gadget.reserved + 2 });
    expect(await reservation(orderId)).toEqual({ status: 'RESERVED', items, reason: null, sku: null });
    const reply = { type: 'StockReserved', topic: 'inventory.events', payload: { orderId, items } };
    expect(await outboxFor(orderId)).toEqual([reply, reply]);
  });

  it('reserve_beyond_stock_is_rejected_moves_nothing_and_repeats_the_stored_reason', async () => {
    const orderId = randomUUID();
    const items = [
      { sku: 'last-one', quantity: 1 },
      { sku: 'last-one', quantity: 1 },
    ];
    const before = await product('last-one');

    await reserveStock(orderId, items);
    await reserveStock(orderId, items);

    expect(await product('last-one')).toEqual(before);
    expect(await reservation(orderId)).toEqual({ status: 'REJECTED', items, reason: 'out_of_stock', sku: 'last-one' });
    const reply = {
      type: 'StockUnavailable',
      topic: 'inventory.events',
      payload: { orderId, reason: 'out_of_stock', sku: 'last-one' },
    };
    expect(await outboxFor(orderId)).toEqual([reply, reply]);
  });

  it('reserve_of_an_unknown_sku_is_rejected_as_unknown_sku', async () => {
    const orderId = randomUUID();
    await reserveStock(orderId, [
      { sku: 'widget', quantity: 1 },
      { sku: 'no-such-thing', quantity: 1 },
    ]);
    expect((await reservation(orderId))?.status).toBe('REJECTED');
    expect(await outboxFor(orderId)).toEqual([
      { type: 'StockUnavailable', topic: 'inventory.events', payload: { orderId, reason: 'unknown_sku', sku: 'no-such-thing' } },
    ]);
  });

  it('release_gives_reserved_stock_back_once_and_acknowledges_every_time', async () => {
    const orderId = randomUUID();
    const before = await product('gadget');
    await reserveStock(orderId, [{ sku: 'gadget', quantity: 5 }]);
    await sleep(5);
    const releasing = new Date();

    await releaseStock(orderId);
    await releaseStock(orderId);

    expect(await product('gadget')).toEqual(before);
    expect((await reservation(orderId))?.status).toBe('RELEASED');
    const { createdAt, updatedAt } = await prisma.reservation.findUniqueOrThrow({ where: { orderId } });
    expect(createdAt.getTime()).toBeLessThan(releasing.getTime());
    expect(updatedAt.getTime()).toBeGreaterThanOrEqual(releasing.getTime());
    const released = { type: 'StockReleased', topic: 'inventory.events', payload: { orderId } };
    expect((await outboxFor(orderId)).slice(1)).toEqual([released, released]);
  });

  it('release_before_reserve_leaves_a_tombstone_that_refuses_the_late_reserve', async () => {
    const orderId = randomUUID();
    const before = await product('widget');

    await releaseStock(orderId);
    await reserveStock(orderId, [{ sku: 'widget', quantity: 7 }]);

    expect(await product('widget')).toEqual(before);
    expect(await reservation(orderId)).toEqual({ status: 'RELEASED', items: [], reason: null, sku: null });
    expect(await outboxFor(orderId)).toEqual([{ type: 'StockReleased', topic: 'inventory.events', payload: { orderId } }]);
  });

  it('confirmation_ships_reserved_stock_and_a_later_release_changes_nothing', async () => {
    const orderId = randomUUID();
    const items = [{ sku: 'widget', quantity: 2 }];
    const before = await product('widget');
    await reserveStock(orderId, items);

    await orderConfirmed(orderId);
    await orderConfirmed(orderId);
    await releaseStock(orderId);
    await reserveStock(orderId, items);

    expect(await product('widget')).toEqual({ onHand: before.onHand - 2, reserved: before.reserved, shipped: before.shipped + 2 });
    expect((await reservation(orderId))?.status).toBe('COMMITTED');
    const reserved = { type: 'StockReserved', topic: 'inventory.events', payload: { orderId, items } };
    expect(await outboxFor(orderId)).toEqual([reserved, reserved]);
  });

  it('two_orders_racing_for_the_last_unit_get_one_reservation_and_one_rejection', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    await Promise.all([reserveStock(a, [{ sku: 'last-one', quantity: 1 }]), reserveStock(b, [{ sku: 'last-one', quantity: 1 }])]);

    const statuses = [(await reservation(a))?.status, (await reservation(b))?.status].sort();
    expect(statuses).toEqual(['REJECTED', 'RESERVED']);
    expect(await product('last-one')).toEqual({ onHand: 0, reserved: 1, shipped: 0 });
  });

  it('concurrent_deliveries_of_one_reserve_act_once_and_the_loser_is_retried', async () => {
    const orderId = randomUUID();
    const items = [{ sku: 'gadget', quantity: 3 }];
    const before = await product('gadget');

    const results = await Promise.allSettled([reserveStock(orderId, items), reserveStock(orderId, items)]);

    expect(await product('gadget')).toEqual({ ...before, onHand: before.onHand - 3, reserved: before.reserved + 3 });
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    // Either the second delivery waited on the product lock and found the reservation, or it
    // raced past the lookup and lost the insert: then it fails as transient for the transport
    // to retry, and the retry repeats the reply.
    for (const failure of failed) expect(failure.reason).toBeInstanceOf(TransientError);
    if (failed.length > 0) await reserveStock(orderId, items);
    expect((await outboxFor(orderId)).map((m) => m.type)).toEqual(['StockReserved', 'StockReserved']);
  });

  it('moves_of_several_skus_are_applied_as_one_net_change_per_product', async () => {
    const [widget, gadget] = [await product('widget'), await product('gadget')];

    await transaction((tx) =>
      store().write(
        {
          moves: [
            { sku: 'widget', quantity: 2, from: 'onHand', to: 'reserved' },
            { sku: 'gadget', quantity: 1, from: 'onHand', to: 'reserved' },
            { sku: 'widget', quantity: 3, from: 'onHand', to: 'reserved' },
            { sku: 'widget', quantity: 1, from: 'reserved', to: 'shipped' },
          ],
          send: [],
        },
        null,
        tx,
      ),
    );

    expect(await product('widget')).toEqual({
      onHand: widget.onHand - 5,
      reserved: widget.reserved + 4,
      shipped: widget.shipped + 1,
    });
    expect(await product('gadget')).toEqual({ ...gadget, onHand: gadget.onHand - 1, reserved: gadget.reserved + 1 });
  });

  it('a_move_that_would_leave_one_product_negative_is_refused_and_moves_no_product', async () => {
    const [widget, gadget] = [await product('widget'), await product('gadget')];

    const moving = transaction((tx) =>
      store().write(
        {
          moves: [
            { sku: 'widget', quantity: 1, from: 'onHand', to: 'reserved' },
            { sku: 'gadget', quantity: gadget.onHand + 1, from: 'onHand', to: 'reserved' },
          ],
          send: [],
        },
        null,
        tx,
      ),
    );

    await expect(moving).rejects.toThrow(/product_on_hand_not_negative/);
    expect([await product('widget'), await product('gadget')]).toEqual([widget, gadget]);
  });

  it('a_move_of_a_product_that_does_not_exist_fails_instead_of_being_skipped', async () => {
    const widget = await product('widget');

    const moving = transaction((tx) =>
      store().write(
        {
          moves: [
            { sku: 'widget', quantity: 1, from: 'onHand', to: 'reserved' },
            { sku: 'no-such-thing', quantity: 1, from: 'onHand', to: 'reserved' },
          ],
          send: [],
        },
        null,
        tx,
      ),
    );

    await expect(moving).rejects.toThrow(/2 products but 1 exist/);
    expect(await product('widget')).toEqual(widget);
  });

  it('a_move_locks_its_products_in_sku_order_before_updating_any', async () => {
    const [widget, gadget] = [await product('widget'), await product('gadget')];
    let rowLocked!: () => void;
    const locked = new Promise<void>((resolve) => (rowLocked = resolve));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const holdingWidget = transaction(async (tx) => {
      await tx.query(`SELECT sku FROM product WHERE sku = 'widget' FOR UPDATE`);
      rowLocked();
      await held;
    });
    await locked;

    // Listed widget first: in sku order, gadget is locked first, then the move waits for widget.
    const moving = transaction((tx) =>
      store().write(
        {
          moves: [
            { sku: 'widget', quantity: 1, from: 'onHand', to: 'reserved' },
            { sku: 'gadget', quantity: 1, from: 'onHand', to: 'reserved' },
          ],
          send: [],
        },
        null,
        tx,
      ),
    );
    await until(async () => (await waitingForLocks()) === 1);
    const gadgetFree = transaction((tx) => tx.query(`SELECT sku FROM product WHERE sku = 'gadget' FOR UPDATE NOWAIT`));
    const gadgetWasHeld = await gadgetFree.then(
      () => false,
      (error: { code?: string }) => error.code === '55P03',
    );
    release();
    await Promise.all([holdingWidget, moving]);

    expect(gadgetWasHeld).toBe(true);
    expect(await product('widget')).toEqual({ ...widget, onHand: widget.onHand - 1, reserved: widget.reserved + 1 });
    expect(await product('gadget')).toEqual({ ...gadget, onHand: gadget.onHand - 1, reserved: gadget.reserved + 1 });
  });

  it('the_database_refuses_negative_stock', async () => {
    await expect(prisma.product.update({ where: { sku: 'gadget' }, data: { reserved: -1 } })).rejects.toThrow(
      /product_reserved_not_negative/,
    );
  });

  it('initial_stock_equals_on_hand_plus_reserved_plus_shipped_after_all_of_the_above', async () => {
    for (const p of await prisma.product.findMany()) {
      expect({ sku: p.sku, total: p.onHand + p.reserved + p.shipped }).toEqual({ sku: p.sku, total: INITIAL_STOCK[p.sku] });
    }
  });
});
