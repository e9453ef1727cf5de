import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { pgTransaction, type PgTx } from '@order-saga/consumer';
import type { CancelShipment, CreateShipment } from '@order-saga/contracts';
import { type ScratchDatabase, createScratchDatabase, serviceSchema } from '@order-saga/database';
import { Outbox } from '@order-saga/outbox';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelShipmentCommand, CancelShipmentHandler } from '../cancel-shipment/cancel-shipment.handler.js';
import { CreateShipmentCommand, CreateShipmentHandler } from '../create-shipment/create-shipment.handler.js';
import { PrismaClient } from '../generated/prisma/client.js';

const adminUrl = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

const createShipment = (orderId: string, country = 'FR'): CreateShipment => ({
  orderId,
  address: { country, city: 'Lyon', line1: '1 rue de la République' },
  items: [{ sku: 'SKU-1', quantity: 2 }],
});
const cancelShipment = (orderId: string): CancelShipment => ({ orderId, reason: 'payment declined' });

describe('shipping handlers on PostgreSQL', () => {
  let db: ScratchDatabase;
  let pool: pg.Pool;
  // Reads the tests' expectations (and breaks rules on purpose); the handlers write through node-postgres.
  let prisma: PrismaClient;
  const outbox = new Outbox();
  const creator = new CreateShipmentHandler(outbox);
  const canceller = new CancelShipmentHandler(outbox);

  // As the inbox transport runs them: one node-postgres transaction per delivered message.
  const transaction = <T>(work: (tx: PgTx) => Promise<T>) => pgTransaction(pool)(work, { timeoutMs: 5000 });
  const create = (message: CreateShipment) =>
    transaction((tx) => creator.execute(new CreateShipmentCommand(message, tx)));
  const cancel = (message: CancelShipment) =>
    transaction((tx) => canceller.execute(new CancelShipmentCommand(message, tx)));

  const shipments = (orderId: string) => prisma.shipment.findMany({ where: { orderId } });
  const replies = (orderId: string) =>
    prisma.outbox.findMany({
      where: { aggregateId: orderId },
      orderBy: { seq: 'asc' },
      select: { type: true, payload: true, topic: true },
    });

  /** Backends of this test's database waiting for a lock. */
  const waitingForLocks = async () => {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    return rows[0]!.n;
  };
  const until = async (condition: () => Promise<boolean>, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
      await sleep(20);
    }
  };

  beforeAll(async () => {
    db = await createScratchDatabase({ adminUrl, prefix: 'shipping_spec', ...serviceSchema('shipping') });
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  });
  afterAll(async () => {
    await prisma?.$disconnect();
    if (pool && !pool.ended) await pool.end();
    await db?.drop();
  });

  it('creates one shipment for a served country and announces it on shipping.events', async () => {
    const orderId = randomUUID();

    await create(createShipment(orderId));

    const [shipment, ...others] = await shipments(orderId);
    expect(others).toEqual([]);
    expect(shipment).toMatchObject({
      status: 'CREATED',
      country: 'FR',
      city: 'Lyon',
      line1: '1 rue de la République',
      items: [{ sku: 'SKU-1', quantity: 2 }],
      reason: null,
    });
    expect(shipment!.shipmentId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await replies(orderId)).toEqual([
      {
        type: 'ShipmentCreated',
        topic: 'shipping.events',
        payload: { orderId, shipmentId: shipment!.shipmentId },
      },
    ]);
  });

  it('a re-sent CreateShipment re-emits the same ShipmentCreated and creates no second shipment', async () => {
    const orderId = randomUUID();

    await create(createShipment(orderId));
    const [first] = await shipments(orderId);
    await create(createShipment(orderId));

    const after = await shipments(orderId);
    expect(after).toEqual([first]);
    const sent = await replies(orderId);
    expect(sent.map((r) => r.type)).toEqual(['ShipmentCreated', 'ShipmentCreated']);
    expect(sent[1]!.payload).toEqual({ orderId, shipmentId: first!.shipmentId });
  });

  it('refuses an order to a seeded unserved country (AQ), also when the command is re-sent', async () => {
    const orderId = randomUUID();

    await create(createShipment(orderId, 'AQ'));
    await create(createShipment(orderId, 'AQ'));

    expect(await shipments(orderId)).toMatchObject([
      { status: 'REFUSED', shipmentId: null, reason: 'country_not_served' },
    ]);
    const refusal = {
      type: 'ShipmentRefused',
      topic: 'shipping.events',
      payload: { orderId, reason: 'country_not_served' },
    };
    expect(await replies(orderId)).toEqual([refusal, refusal]);
  });

  it('cancels a created shipment once; a re-sent CancelShipment only re-emits', async () => {
    const orderId = randomUUID();
    await create(createShipment(orderId));
    const [created] = await shipments(orderId);

    await cancel(cancelShipment(orderId));
    const [cancelled] = await shipments(orderId);
    await cancel(cancelShipment(orderId));

    expect(cancelled).toMatchObject({
      status: 'CANCELLED',
      shipmentId: created!.shipmentId,
      reason: 'payment declined',
      country: 'FR',
    });
    expect(await shipments(orderId)).toEqual([cancelled]);
    const cancellation = {
      type: 'ShipmentCancelled',
      topic: 'shipping.events',
      payload: { orderId, shipmentId: created!.shipmentId },
    };
    expect((await replies(orderId)).slice(1)).toEqual([cancellation, cancellation]);
  });

  it('cancelling a refused order is acknowledged without a shipment id and keeps the refusal', async () => {
    const orderId = randomUUID();
    await create(createShipment(orderId, 'AQ'));

    await cancel(cancelShipment(orderId));

    expect(await shipments(orderId)).toMatchObject([{ status: 'REFUSED', reason: 'country_not_served' }]);
    expect((await replies(orderId)).at(-1)).toEqual({
      type: 'ShipmentCancelled',
      topic: 'shipping.events',
      payload: { orderId },
    });
  });

  it('a cancellation before any CreateShipment leaves a tombstone, and the late CreateShipment is refused', async () => {
    const orderId = randomUUID();

    await cancel(cancelShipment(orderId));
    expect(await shipments(orderId)).toMatchObject([
      {
        status: 'CANCELLED',
        shipmentId: null,
        country: null,
        city: null,
        line1: null,
        items: null,
        reason: 'payment declined',
      },
    ]);

    await create(createShipment(orderId));
    await cancel(cancelShipment(orderId));

    expect(await shipments(orderId)).toMatchObject([{ status: 'CANCELLED', shipmentId: null, items: null }]);
    expect((await replies(orderId)).map(({ type, payload }) => ({ type, payload }))).toEqual([
      { type: 'ShipmentCancelled', payload: { orderId } },
      { type: 'ShipmentRefused', payload: { orderId, reason: 'order_cancelled' } },
      { type: 'ShipmentCancelled', payload: { orderId } },
    ]);
  });

  it('a CreateShipment arriving while a cancellation holds the row waits for it and is refused', async () => {
    const orderId = randomUUID();
    await create(createShipment(orderId));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let rowLocked!: () => void;
    const locked = new Promise<void>((resolve) => (rowLocked = resolve));

    const cancelling = transaction(async (tx) => {
      await canceller.execute(new CancelShipmentCommand(cancelShipment(orderId), tx));
      rowLocked();
      await held;
    });
    await locked;
    let resent = false;
    const resending = create(createShipment(orderId)).then(() => (resent = true));
    await sleep(300);
    const waitedForTheLock = !resent;
    release();
    await Promise.all([cancelling, resending]);

    expect(waitedForTheLock).toBe(true);
    expect((await replies(orderId)).map((r) => r.payload)).toEqual([
      { orderId, shipmentId: expect.any(String) },
      { orderId, shipmentId: expect.any(String) },
      { orderId, reason: 'order_cancelled' },
    ]);
  });

  it('two first CreateShipments of one order racing: the primary key refuses the second, and its retry repeats the first shipment', async () => {
    const orderId = randomUUID();
    let rowWritten!: () => void;
    const written = new Promise<void>((resolve) => (rowWritten = resolve));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = transaction(async (tx) => {
      await creator.execute(new CreateShipmentCommand(createShipment(orderId), tx));
      rowWritten();
      await held;
    });
    await written;

    // The second finds no row to lock (the first has not committed) and waits on the key it inserts.
    const second = create(createShipment(orderId));
    // Its refusal is expected: watched from now on, so it never counts as an unhandled rejection
    // while the first transaction commits.
    const refused = expect(second).rejects.toMatchObject({ code: '23505' });
    await until(async () => (await waitingForLocks()) === 1);
    release();
    await first;
    await refused;
    await create(createShipment(orderId));

    const [shipment, ...others] = await shipments(orderId);
    expect(others).toEqual([]);
    const reply = { orderId, shipmentId: shipment!.shipmentId };
    expect((await replies(orderId)).map((r) => r.payload)).toEqual([reply, reply]);
  });

  it('an update of the row keeps updated_at current', async () => {
    const orderId = randomUUID();
    await create(createShipment(orderId));
    await sleep(5);
    const cancelling = new Date();

    await cancel(cancelShipment(orderId));

    const [shipment] = await shipments(orderId);
    expect(shipment!.createdAt.getTime()).toBeLessThan(cancelling.getTime());
    expect(shipment!.updatedAt.getTime()).toBeGreaterThanOrEqual(cancelling.getTime());
  });

  it('the table refuses rows that break the status invariants', async () => {
    // A valid CREATED row, with one column changed per case, so each insert breaks one rule only.
    const insert = (changes: Record<string, string | null>) => {
      const row = {
        order_id: randomUUID(),
        shipment_id: randomUUID(),
        status: 'CREATED',
        country: 'FR',
        city: 'Lyon',
        line1: '1 rue',
        items: '[{"sku":"S","quantity":1}]',
        reason: null,
        ...changes,
      };
      return prisma.$executeRawUnsafe(
        `INSERT INTO shipment (${Object.keys(row).join(', ')}) VALUES ($1::uuid, $2::uuid, $3::shipment_status, $4, $5, $6, $7::jsonb, $8)`,
        ...Object.values(row),
      );
    };

    await expect(insert({})).resolves.toBe(1);
    await expect(insert({ shipment_id: null })).rejects.toThrow(/shipment_created_has_id/);
    await expect(insert({ status: 'REFUSED', reason: 'country_not_served' })).rejects.toThrow(
      /shipment_refused_has_reason_and_no_id/,
    );
    await expect(insert({ status: 'REFUSED', shipment_id: null })).rejects.toThrow(
      /shipment_refused_has_reason_and_no_id/,
    );
    await expect(insert({ status: 'CANCELLED' })).rejects.toThrow(/shipment_cancelled_has_reason/);
    await expect(insert({ status: 'CANCELLED', reason: 'x', city: null })).rejects.toThrow(
      /shipment_address_all_or_none/,
    );
    await expect(insert({ country: null, city: null, line1: null, items: null })).rejects.toThrow(
      /shipment_only_tombstone_lacks_address/,
    );
    await expect(insert({ items: '[]' })).rejects.toThrow(/shipment_items_non_empty_array/);
  });
});
