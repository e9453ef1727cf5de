import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEnvelope, toKafkaMessage, topicName, type Envelope, type MessageType, type PayloadOf } from '@order-saga/contracts';
import { createScratchDatabase, serviceSchema, type ScratchDatabase } from '@order-saga/database';
import { createKafka, ensureTopics } from '@order-saga/outbox';
import { testInfra, uniqueTopicPrefix, waitFor } from '@order-saga/testing';
import type { Kafka, Producer } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RebuildInProgressError, acquireRebuildLock, liveGeneration } from './catalogue.js';
import { LiveProjection } from './live.js';
import { RetentionGapError, generationPosition } from './position.js';
import { projection, topicKeysOf, type ProjectedMessage } from './projection.js';
import { rebuild } from './rebuild.js';
import { exportSlice, importSlice } from './slice.js';

/** A small projection over two topics: the order's facts from OrderPlaced, the charge from PaymentCharged. */
interface Paid {
  orderId: string;
  customerId: string | null;
  total: number | null;
  charged: number | null;
  messages: string[];
}
const paid = projection<Paid, 'OrderPlaced' | 'PaymentCharged'>({
  name: 'paid-orders',
  reads: ['OrderPlaced', 'PaymentCharged'],
  key: (m) => m.envelope.aggregateId,
  evolve: (view, m: ProjectedMessage<'OrderPlaced' | 'PaymentCharged'>) => {
    const v = view ?? { orderId: m.envelope.aggregateId, customerId: null, total: null, charged: null, messages: [] };
    const messages = [...new Set([...v.messages, m.envelope.messageId])].sort();
    if (m.envelope.type === 'OrderPlaced') return { ...v, messages, customerId: m.envelope.payload.customerId, total: m.envelope.payload.total };
    return { ...v, messages, charged: m.envelope.payload.amount };
  },
  columns: { customer_id: { type: 'text', value: (v) => v.customerId } },
  indexes: [{ on: ['customer_id', 'key DESC'] }],
});

const log = { info: () => undefined, error: (msg: string, f?: Record<string, unknown>) => console.error(msg, f) };

async function send<T extends MessageType>(producer: Producer, prefix: string, type: T, payload: PayloadOf<T>): Promise<Envelope> {
  const envelope = createEnvelope(type, payload, { correlationId: randomUUID() }) as Envelope;
  const topic = type === 'OrderPlaced' ? 'order.events' : 'payment.events';
  await producer.send({ topic: topicName(topic, prefix), messages: [toKafkaMessage(envelope)] });
  return envelope;
}

describe('projection runner on Kafka and PostgreSQL', () => {
  let kafka: Kafka;
  let producer: Producer;
  const prefix = uniqueTopicPrefix('projections');
  const databases: ScratchDatabase[] = [];
  const pools: pg.Pool[] = [];

  async function database(): Promise<pg.Pool> {
    const db = await createScratchDatabase({ adminUrl: testInfra().adminDatabaseUrl, prefix: 't_projections', ...serviceSchema('order-view') });
    databases.push(db);
    // As order-view runs: its database's migrator, since the runner creates a table per generation.
    const pool = new pg.Pool({ connectionString: db.migratorUrl, max: 6 });
    pool.on('error', () => undefined);
    pools.push(pool);
    return pool;
  }

  const rows = async (pool: pg.Pool) => (await pool.query('SELECT key, doc, customer_id FROM paid_orders ORDER BY key')).rows;

  /** 40 orders; for every other one the charge is published BEFORE the order (cross-topic reordering). */
  async function publishOrders(): Promise<void> {
    for (let i = 0; i < 40; i++) {
      const orderId = randomUUID();
      const placed = () =>
        send(producer, prefix, 'OrderPlaced', {
          orderId,
          customerId: `c${i % 4}`,
          items: [{ sku: 'widget', quantity: 1 }],
          total: 100 + i,
          shippingAddress: { country: 'FR', city: 'Paris', line1: '1 rue' },
        });
      const charged = () => send(producer, prefix, 'PaymentCharged', { orderId, paymentId: `p${i}`, amount: 100 + i });
      if (i % 2 === 0) {
        await placed();
        await charged();
      } else {
        await charged();
        await placed();
      }
    }
  }

  beforeAll(async () => {
    kafka = createKafka({ clientId: 'projections-int', brokers: testInfra().kafkaBrokers });
    await ensureTopics(kafka, topicKeysOf(paid).map((k) => topicName(k, prefix)));
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await publishOrders();
  });

  afterAll(async () => {
    await producer?.disconnect();
    for (const pool of pools) await pool.end();
    for (const db of databases) await db.drop();
  });

  it('back-fills a new projection from history, whatever the cross-topic order, then follows live traffic', async () => {
    const pool = await database();
    const live = new LiveProjection({ pool, kafka, projection: paid, topicPrefix: prefix, log, pollMs: 200 });
    await live.start();
    try {
      await waitFor(async () => live.status.state === 'live' && live.status.position?.lagMessages === 0, { timeoutMs: 60_000 });
      const model = await rows(pool);
      expect(model).toHaveLength(40);
      for (const row of model) {
        expect(row.doc.messages).toHaveLength(2);
        expect(row.doc.charged).toBe(row.doc.total);
        expect(row.customer_id).toBe(row.doc.customerId);
      }
      const orderId = randomUUID();
      await send(producer, prefix, 'PaymentCharged', { orderId, paymentId: 'late', amount: 7 });
      await waitFor(async () => (await pool.query('SELECT 1 FROM paid_orders WHERE key = $1', [orderId])).rowCount === 1, { timeoutMs: 30_000 });
      await waitFor(async () => live.status.position?.lagMessages === 0, { timeoutMs: 30_000 });
    } finally {
      await live.stop();
    }
  });

  it('rebuilds an identical generation, switches readers atomically, and refuses a second concurrent rebuild', async () => {
    const pool = await database();
    await rebuild({ pool, kafka, projection: paid, topicPrefix: prefix, pollMs: 100 });
    const first = await rows(pool);
    const lock = await acquireRebuildLock(pool, paid.name);
    await expect(rebuild({ pool, kafka, projection: paid, topicPrefix: prefix })).rejects.toThrow(RebuildInProgressError);
    await expect(rebuild({ pool, kafka, projection: paid, topicPrefix: prefix })).rejects.toThrow(
      /a rebuild of paid-orders is already running/,
    );
    await lock.release();
    const second = await rebuild({ pool, kafka, projection: paid, topicPrefix: prefix, pollMs: 100 });
    expect(second).toMatchObject({ generation: 2, switched: true, resumed: false });
    expect(await liveGeneration(pool, paid.name)).toBe(2);
    expect(await rows(pool)).toEqual(first);
  });

  it('changes nothing when a range is delivered again: positions below the checkpoint are skipped', async () => {
    const pool = await database();
    await rebuild({ pool, kafka, projection: paid, topicPrefix: prefix, pollMs: 100 });
    const before = await rows(pool);
    // Duplicate delivery of everything: a replay from offset 0 onto a copy of the live generation.
    await rebuild({ pool, kafka, projection: paid, topicPrefix: prefix, pollMs: 100, replayFrom: () => 0n });
    expect(await liveGeneration(pool, paid.name)).toBe(2);
    expect(await rows(pool)).toEqual(before);
    const { applyBatch } = await import('./apply.js');
    const result = await applyBatch(pool, paid, 2, topicName('order.events', prefix), 0, [{ offset: '0', message: null }], null);
    expect(result).toMatchObject({ applied: 0, skipped: 1 });
  });

  it('replays an exported slice under another prefix into the same read model, with customers masked', async () => {
    const source = await database();
    await rebuild({ pool: source, kafka, projection: paid, topicPrefix: prefix, pollMs: 100 });
    const file = join(tmpdir(), `slice-${randomUUID()}.jsonl.gz`);
    const exported = await exportSlice({ kafka, topics: ['order.events', 'payment.events'], prefix, out: file });
    expect(exported.records).toBe(81);
    const devPrefix = uniqueTopicPrefix('dev');
    const imported = await importSlice({ kafka, file, prefix: devPrefix });
    expect(imported.records).toBe(81);
    const copy = await database();
    await rebuild({ pool: copy, kafka, projection: paid, topicPrefix: devPrefix, pollMs: 100 });
    const original = await rows(source);
    const replayed = await rows(copy);
    const withoutCustomer = (list: { key: string; doc: Paid }[]) => list.map((r) => ({ key: r.key, doc: { ...r.doc, customerId: null } }));
    expect(withoutCustomer(replayed)).toEqual(withoutCustomer(original));
    expect(replayed.every((r) => /^pii-[0-9a-f]{12}$/.test(r.doc.customerId ?? 'pii-000000000000'))).toBe(true);
    // One customer, one pseudonym: per-customer views still group the same orders.
    expect(new Set(replayed.map((r) => r.customer_id).filter(Boolean)).size).toBe(4);
  });

  it('refuses a rebuild, naming the gap, once retention deleted records it needs', async () => {
    const pool = await database();
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topic = topicName('payment.events', prefix);
      const partition = (await admin.fetchTopicOffsets(topic)).find((p) => Number(p.high) >= 2)!;
      await admin.deleteTopicRecords({ topic, partitions: [{ partition: partition.partition, offset: '2' }] });
      const error = await rebuild({ pool, kafka, projection: paid, topicPrefix: prefix }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RetentionGapError);
      expect((error as Error).message).toContain(`${topic}[${partition.partition}]: needs offset 0, earliest retained is 2 (2 records gone)`);
      expect(await liveGeneration(pool, paid.name)).toBeNull();
      const position = await generationPosition(pool, admin, paid, 0, prefix);
      expect(position.partitions.find((p) => p.topic === topic && p.partition === partition.partition)!.low).toBe(2n);
    } finally {
      await admin.disconnect();
    }
  });
});
