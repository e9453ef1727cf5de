import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deadLetterTopic, topicName } from '@order-saga/contracts';
import { createKafka } from '@order-saga/outbox';
import { parsePrometheusText, testInfra, uniqueTopicPrefix, waitFor } from '@order-saga/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mixedOrder, SagaSystem, terminal } from '../saga/system.js';
import { CliRun, OrderView } from './order-view.js';

const topicsCli = fileURLToPath(new URL('../../../libs/projections/dist/cli/topics.cli.js', import.meta.url));

const COUNT = 210;

interface TimelineItem {
  service: string;
  type: string;
  topic: string;
  partition: number;
  offset: number;
  occurredAt: string;
  traceId: string | null;
  compensation: boolean;
}
interface OrderDetail {
  orderId: string;
  status: string;
  total: number;
  customerId: string;
  items: { sku: string; quantity: number }[];
  timeline: TimelineItem[];
  freshness: { asOf: string; lagMessages: number; lagSeconds: number; generation: number };
}
interface OrderPage {
  items: { orderId: string; placedAt: string; customerId: string }[];
  nextCursor: string | null;
}

// What each message is a reply to (or follows from), within one order: the timeline must show the
// cause first whatever order the topics were consumed in.
const causes: Record<string, string[]> = {
  ReserveStock: ['OrderPlaced'],
  StockReserved: ['ReserveStock'],
  StockUnavailable: ['ReserveStock'],
  ChargePayment: ['StockReserved'],
  PaymentCharged: ['ChargePayment'],
  PaymentDeclined: ['ChargePayment'],
  CreateShipment: ['PaymentCharged'],
  ShipmentCreated: ['CreateShipment'],
  ShipmentRefused: ['CreateShipment'],
  OrderConfirmed: ['ShipmentCreated'],
  StockReleased: ['ReleaseStock'],
  PaymentRefunded: ['RefundPayment'],
  ShipmentCancelled: ['CancelShipment'],
};

describe('read side: order-view projects every service’s messages', () => {
  let system: SagaSystem;
  let view: OrderView;
  const orderIds: string[] = [];

  beforeAll(async () => {
    system = await SagaSystem.start('readside');
    view = await OrderView.start('readside', system.prefix);
    let next = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < COUNT) orderIds.push(await system.place(mixedOrder(next++)));
      }),
    );
    // Every saga over (on the write side) before the read side is compared with it.
    await waitFor(
      async () =>
        Number(
          (
            await system.query<{ n: string }>(
              'order',
              'SELECT count(*) AS n FROM "order" WHERE status = ANY($1)',
              [terminal],
            )
          )[0]!.n,
        ) === COUNT,
      { timeoutMs: 600_000, intervalMs: 1000, message: () => `sagas still running\n${system.tail()}` },
    );
  }, 900_000);

  afterAll(async () => {
    await view?.stop();
    await system?.stop();
  });

  it('agrees with the write side order by order, and every timeline holds each service’s messages in causal order', async () => {
    await view.caughtUp(300_000);
    const written = await system.query<{
      id: string;
      status: string;
      total: number;
      customer_id: string;
      items: { sku: string; quantity: number }[];
    }>(
      'order',
      `SELECT o.id, o.status, o.total, o.customer_id,
              json_agg(json_build_object('sku', i.sku, 'quantity', i.quantity) ORDER BY i.sku) AS items
         FROM "order" o JOIN order_item i ON i.order_id = o.id GROUP BY o.id`,
    );
    expect(written).toHaveLength(COUNT);
    const services = new Set<string>();
    for (const order of written) {
      const { status, body, headers } = await view.get<OrderDetail>(`/orders/${order.id}`);
      expect(status).toBe(200);
      expect(headers.get('read-model-freshness')).toMatch(
        /^as-of=\S+; lag-messages=\d+; lag-seconds=[\d.]+; generation=\d+$/,
      );
      expect(body.freshness.generation).toBe(1);
      expect({
        status: body.status,
        total: body.total,
        customerId: body.customerId,
        items: [...body.items].sort((a, b) => a.sku.localeCompare(b.sku)),
      }).toEqual({
        status: order.status,
        total: order.total,
        customerId: order.customer_id,
        items: order.items,
      });

      const types = body.timeline.map((e) => e.type);
      expect(types[0]).toBe('OrderPlaced');
      for (const [i, entry] of body.timeline.entries()) {
        services.add(entry.service);
        for (const cause of causes[entry.type] ?? []) {
          const at = types.indexOf(cause);
          if (at !== -1) expect(at, `${entry.type} after ${cause} in ${types.join(',')}`).toBeLessThan(i);
        }
        expect(entry.service).toBe(entry.topic.endsWith('.commands') ? 'order' : entry.topic.split('.')[0]);
        expect(entry.compensation).toBe(
          [
            'ReleaseStock',
            'RefundPayment',
            'CancelShipment',
            'StockReleased',
            'PaymentRefunded',
            'ShipmentCancelled',
          ].includes(entry.type),
        );
      }
      if (order.status === 'CONFIRMED') {
        expect(new Set(body.timeline.map((e) => e.service))).toEqual(
          new Set(['order', 'inventory', 'payment', 'shipping']),
        );
        // Not necessarily last: under load a step's deadline re-sends it, and the late duplicate
        // reply is published after the confirmation.
        expect(types).toContain('OrderConfirmed');
      }
    }
    expect(services).toEqual(new Set(['order', 'inventory', 'payment', 'shipping']));
  }, 600_000);

  it('pages every order newest first with a cursor, and filters by customer and sku', async () => {
    const seen: OrderPage['items'] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: OrderPage } = await view.get<OrderPage>(
        `/orders?limit=37${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(new Set(seen.map((o) => o.orderId)).size).toBe(COUNT);
    const placed = seen.map((o) => `${o.placedAt}|${o.orderId}`);
    expect(placed).toEqual([...placed].sort().reverse());

    const bob = await view.get<OrderPage>('/customers/bob/orders?limit=200');
    expect(bob.body.items.length).toBe(orderIds.filter((_, i) => i % 6 === 1).length);
    expect(bob.body.items.every((o) => o.customerId === 'bob')).toBe(true);
    const lastOne = await view.get<OrderPage>('/orders?sku=last-one&limit=200');
    expect(lastOne.body.items.length).toBe(COUNT / 6);

    const tooMany = await view.get<{ errors: { field: string }[] }>('/orders?limit=201');
    expect(tooMany.status).toBe(400);
    expect(tooMany.headers.get('content-type')).toContain('application/problem+json');
    expect(tooMany.body.errors[0]!.field).toBe('limit');

    const stats = await view.get<{
      ordersByStatus: Record<string, number>;
      placeToTerminalMs: Record<string, { p99: number }>;
    }>('/stats?window=15m');
    expect(Object.values(stats.body.ordersByStatus).reduce((a, b) => a + b, 0)).toBe(COUNT);
    expect(stats.body.placeToTerminalMs.CONFIRMED!.p99).toBeGreaterThan(0);

    // Dead letters in the window, counted from the dead-letter topics' offsets over one admin
    // connection kept across requests: a record put on one is counted by the next request.
    const deadLetters = async () =>
      (await view.get<{ deadLetters: number }>('/stats?window=15m')).body.deadLetters;
    const before = await deadLetters();
    const producer = createKafka({ clientId: 'readside-dlt', brokers: testInfra().kafkaBrokers }).producer();
    await producer.connect();
    await producer.send({
      topic: deadLetterTopic(topicName('payment.commands', system.prefix)),
      messages: [{ key: 'x', value: '{}' }],
    });
    await producer.disconnect();
    await expect.poll(deadLetters, { timeout: 15_000 }).toBe(before + 1);
  }, 300_000);

  it('rebuilds from offset 0 into an identical read model while reads keep answering, resuming after a SIGKILL halfway', async () => {
    const before = await view.readModel();
    expect(before).toHaveLength(COUNT);
    const answers: number[] = [];
    let reading = true;
    const reader = (async () => {
      while (reading) {
        answers.push((await fetch(`${view.url}/orders?limit=20`)).status);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    // Slowed down so that it is surely killed halfway.
    const first = view.cli(['rebuild', 'order-summary', '--rate', '400']);
    await expect
      .poll(
        async () =>
          Number(
            (
              await view.pool.query<{ n: string }>(
                `SELECT coalesce(sum(next_offset), 0) AS n FROM projection_checkpoint WHERE generation = 2`,
              )
            ).rows[0]!.n,
          ),
        { timeout: 60_000, interval: 100 },
      )
      .toBeGreaterThan(300);
    const second = await view.cli(['rebuild', 'order-summary']).done();
    expect(second.code, second.output).toBe(3);
    expect(second.output).toContain('a rebuild of order-summary is already running');
    await first.kill();
    expect((await view.pool.query('SELECT live_generation AS g FROM projection')).rows[0].g).toBe(1);

    const resumed = await view.cli(['rebuild', 'order-summary']).done();
    expect(resumed.code, resumed.output).toBe(0);
    expect(resumed.output).toContain('resuming order-summary generation 2');
    expect(resumed.output).toMatch(/generation 2 is live: \d+ events in [\d.]+ s \(\d+ events\/s\)/);
    expect(await view.readModel()).toEqual(before);

    await expect.poll(async () => (await view.health()).generation, { timeout: 30_000 }).toBe(2);
    // The switch is a rebuild the service's /metrics reports, whichever process ran it.
    await expect
      .poll(
        async () => {
          const families = parsePrometheusText(await (await fetch(`${view.url}/metrics`)).text());
          // OpenTelemetry exports a histogram only once it holds a sample: its family is the proof.
          return families.find((f) => f.name === 'projection_rebuild_duration_seconds')?.type;
        },
        { timeout: 30_000 },
      )
      .toBe('HISTOGRAM');
    reading = false;
    await reader;
    expect(answers.length).toBeGreaterThan(5);
    expect(answers.filter((s) => s !== 200)).toEqual([]);
  }, 600_000);

  it('leaves the read model unchanged when every topic is delivered again from offset 0 (replay)', async () => {
    const before = await view.readModel();
    const replay = await view.cli(['replay', 'order-summary', '--from', '0']).done();
    expect(replay.code, replay.output).toBe(0);
    expect(await view.readModel()).toEqual(before);
    expect((await view.pool.query('SELECT live_generation AS g FROM projection')).rows[0].g).toBe(3);
  }, 300_000);

  it('projects an exported slice imported under another prefix into the same read model, PII masked', async () => {
    const file = join(tmpdir(), `slice-${randomUUID()}.jsonl.gz`);
    const env = { KAFKA_BROKERS: testInfra().kafkaBrokers.join(',') };
    const exported = await new CliRun(
      topicsCli,
      ['export', '--prefix', system.prefix, '--out', file],
      env,
    ).done();
    expect(exported.code, exported.output).toBe(0);
    expect(exported.output).toMatch(/wrote \d+ records to .* \(PII masked\)/);
    const devPrefix = uniqueTopicPrefix('dev');
    const imported = await new CliRun(topicsCli, ['import', file, '--prefix', devPrefix], env).done();
    expect(imported.code, imported.output).toBe(0);

    const copy = await OrderView.start('readside_dev', devPrefix);
    try {
      await copy.caughtUp(300_000);
      const pii = (doc: Record<string, unknown>) => ({
        ...doc,
        customerId: null,
        shippingAddress: { ...(doc.shippingAddress as object), city: null, line1: null },
      });
      const original = await view.readModel();
      const replayed = await copy.readModel();
      expect(replayed.map((r) => ({ key: r.key, doc: pii(r.doc as Record<string, unknown>) }))).toEqual(
        original.map((r) => ({ key: r.key, doc: pii(r.doc as Record<string, unknown>) })),
      );
      const customers = (rows: { doc: unknown }[]) =>
        new Set(rows.map((r) => (r.doc as { customerId: string }).customerId));
      expect([...customers(replayed)].every((c) => /^pii-[0-9a-f]{12}$/.test(c))).toBe(true);
      expect(customers(replayed).size).toBe(customers(original).size);
    } finally {
      await copy.stop();
    }
  }, 600_000);

  it('refuses a rebuild, naming the gap, once retention deleted history it needs, and shows it in /health', async () => {
    const admin = createKafka({ clientId: 'readside-e2e', brokers: testInfra().kafkaBrokers }).admin();
    await admin.connect();
    const topic = `${system.prefix}payment.events`;
    try {
      const partition = (await admin.fetchTopicOffsets(topic)).find((p) => Number(p.high) > 3)!;
      await admin.deleteTopicRecords({
        topic,
        partitions: [{ partition: partition.partition, offset: '3' }],
      });
      const refused = await view.cli(['rebuild', 'order-summary']).done();
      expect(refused.code, refused.output).toBe(4);
      expect(refused.output).toContain(
        `${topic}[${partition.partition}]: needs offset 0, earliest retained is 3 (3 records gone)`,
      );
      await expect
        .poll(async () => (await view.health()).rebuildableFromStart, { timeout: 30_000 })
        .toBe(false);
      const health = await view.health();
      const row = health.retention.find((r) => r.topic === topic && r.partition === partition.partition)!;
      expect(row.earliestRetained).toBe(3);
      expect(row.headroomMessages).toBe(row.position - 3);
    } finally {
      await admin.disconnect();
    }
  }, 300_000);
});
