#!/usr/bin/env node
// How long the Sagas page's list takes with 1,000,000 orders in the read model. Starts
// order-view on a scratch database and topics of its own (one real order projected, so the
// projection is live), writes 1,000,000 order summaries into its live table with one
// INSERT … SELECT generate_series, then times the list API through the console (the Sagas page's
// request) and straight at order-view, and prints EXPLAIN ANALYZE of each list query. Drops the
// database and the topics after.
//
//   pnpm build && pnpm bench:list [--orders 1000000] [--requests 200]
import { fileURLToPath } from 'node:url';
import { topicKeys, topicName } from '@order-saga/contracts';
import { createKafka, ensureTopics } from '@order-saga/outbox';
import { freePort, TestProcess, testInfra, uniqueTopicPrefix, waitFor } from '@order-saga/testing';
import { Command } from 'commander';
import pg from 'pg';
import { OrderView } from './order-view.js';
import { publishOrders } from './synthetic-orders.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const opts = new Command('list-1m')
  .option('--orders <n>', 'order summaries to write into the read model', '1000000')
  .option('--requests <n>', 'timed requests per query', '200')
  .parse()
  .opts<{ orders: string; requests: string }>();
const orders = Number(opts.orders);
const requests = Number(opts.requests);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

const infra = testInfra();
const prefix = uniqueTopicPrefix('list-1m');
const kafka = createKafka({ clientId: 'list-1m-bench', brokers: infra.kafkaBrokers });
const topics = topicKeys.map((k) => topicName(k, prefix));
await ensureTopics(kafka, topics);
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await producer.connect();
await publishOrders(producer, prefix, 1);
await producer.disconnect();

const view = await OrderView.start('list_1m', prefix);
let consoleProcess: TestProcess | undefined;
try {
  await view.caughtUp();
  const { rows } = await view.pool.query<{ definition: string }>("SELECT pg_get_viewdef('order_summary') AS definition");
  const table = /FROM\s+(\w+)/i.exec(rows[0]!.definition)![1]!;

  // Four weeks of orders, newest first a minute ago; 10,000 customers (100 orders each), 50 skus,
  // outcomes in the proportions a busy shop might see: 1% COMPENSATION_FAILED, 2% PENDING.
  const started = Date.now();
  await view.pool.query(`
    INSERT INTO ${table} (key, doc, status, customer_id, placed_at, finished_at, duration_ms, skus, compensations)
    SELECT o.id, jsonb_build_object(
             'orderId', o.id, 'status', o.status, 'reason', CASE WHEN o.status = 'CANCELLED' THEN 'payment_declined' END,
             'customerId', o.customer, 'items', jsonb_build_array(jsonb_build_object('sku', o.sku, 'quantity', 1)),
             'total', 1000 + (o.i % 7) * 250, 'shippingAddress', jsonb_build_object('country', 'FR', 'city', 'Paris', 'line1', '1 rue de Rivoli'),
             'placedAt', to_char(o.placed AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
             'finishedAt', CASE WHEN o.status <> 'PENDING' THEN to_char((o.placed + interval '900 ms') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END,
             'durationMs', CASE WHEN o.status <> 'PENDING' THEN 900 END, 'outcome', null, 'timeline', '[]'::jsonb),
           o.status, o.customer, o.placed,
           CASE WHEN o.status <> 'PENDING' THEN o.placed + interval '900 ms' END,
           CASE WHEN o.status <> 'PENDING' THEN 900 END,
           ARRAY[o.sku], CASE WHEN o.status = 'CANCELLED' THEN 1 ELSE 0 END
      FROM (SELECT i, gen_random_uuid()::text AS id,
                   now() - interval '1 minute' - (i * interval '28 days' / $1) AS placed,
                   'customer-' || (i % 10000) AS customer, 'sku-' || (i % 50) AS sku,
                   CASE WHEN i % 100 = 7 THEN 'COMPENSATION_FAILED' WHEN i % 50 = 3 THEN 'PENDING'
                        WHEN i % 10 = 1 THEN 'CANCELLED' WHEN i % 10 = 2 THEN 'REJECTED' ELSE 'CONFIRMED' END AS status
              FROM generate_series(1, $1) AS i) o`,
    [orders],
  );
  // As the table's owner: order-view creates it as the migrator, and VACUUM by another role only
  // warns and skips (the first 1,000,000-row run measured with the stats of the empty table).
  // This server runs with autovacuum off, so nothing else would analyze it either.
  const owner = new pg.Client({ connectionString: view.db.migratorUrl });
  await owner.connect();
  await owner.query(`VACUUM ANALYZE ${table}`);
  const { rows: analyzed } = await owner.query<{ reltuples: number }>('SELECT reltuples FROM pg_class WHERE relname = $1', [table]);
  await owner.end();
  if (analyzed[0]!.reltuples < orders) throw new Error(`${table} not analyzed: reltuples ${analyzed[0]!.reltuples}`);
  console.log(`wrote ${orders} order summaries into ${table} in ${((Date.now() - started) / 1000).toFixed(1)} s (insert + vacuum analyze)`);

  const consolePort = await freePort();
  const consoleUrl = `http://127.0.0.1:${consolePort}`;
  consoleProcess = new TestProcess(
    'console',
    `${repoRoot}/apps/console/dist/main.js`,
    {
      SERVICE_NAME: 'console',
      KAFKA_BROKERS: infra.kafkaBrokers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      HTTP_PORT: String(consolePort),
      ORDER_VIEW_URL: view.url,
      CONSOLE_DRILLS: 'off',
    },
    { cwd: `${repoRoot}/apps/console` },
  ).start();
  await waitFor(async () => (await fetch(`${consoleUrl}/health`).catch(() => null))?.ok === true, { timeoutMs: 60_000 });

  // What the Sagas page asks for: 25 newest, one status, one customer; then a page deep in the list.
  const deep = (await (await fetch(`${view.url}/orders?limit=200&placedTo=${new Date(Date.now() - 14 * 86_400_000).toISOString()}`)).json()) as { nextCursor: string };
  const queries: [string, string][] = [
    ['default page', 'limit=25'],
    ['status=CANCELLED', 'status=CANCELLED&limit=25'],
    ['status=COMPENSATION_FAILED', 'status=COMPENSATION_FAILED&limit=25'],
    ['customerId=customer-4242', 'customerId=customer-4242&limit=25'],
    ['cursor 2 weeks deep', `limit=25&cursor=${encodeURIComponent(deep.nextCursor)}`],
    ['sku=sku-7 (1 in 50)', 'sku=sku-7&limit=25'],
  ];
  const time = async (url: string) => {
    const samples: number[] = [];
    for (let i = 0; i < 20 + requests; i++) {
      const t0 = performance.now();
      const response = await fetch(url);
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`${url} answered ${response.status}`);
      if (i >= 20) samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    return `p50 ${percentile(samples, 50).toFixed(2)} ms, p99 ${percentile(samples, 99).toFixed(2)} ms`;
  };
  console.log(`\n${requests} requests each after 20 warm-up, one at a time, loopback:`);
  for (const [name, query] of queries) {
    console.log(`${name.padEnd(28)} console /api/orders: ${await time(`${consoleUrl}/api/orders?${query}`)} | order-view /orders: ${await time(`${view.url}/orders?${query}`)}`);
  }
  console.log(`${'stats window 15m'.padEnd(28)} console /api/stats: ${await time(`${consoleUrl}/api/stats?window=15m`)}`);
  console.log(`${'series 30m by 1m'.padEnd(28)} order-view /stats/series: ${await time(`${view.url}/stats/series?window=30m&step=1m`)}`);

  // The statements order-view runs (order-summary.queries.ts), limit + 1 as it asks.
  const [cursorAt, cursorId] = JSON.parse(Buffer.from(deep.nextCursor, 'base64url').toString()) as [string, string];
  const explained: [string, string, unknown[]][] = [
    ['default page', 'placed_at IS NOT NULL', []],
    ['status=CANCELLED', 'placed_at IS NOT NULL AND status = $1', ['CANCELLED']],
    ['status=COMPENSATION_FAILED', 'placed_at IS NOT NULL AND status = $1', ['COMPENSATION_FAILED']],
    ['customerId=customer-4242', 'placed_at IS NOT NULL AND customer_id = $1', ['customer-4242']],
    ['cursor 2 weeks deep', 'placed_at IS NOT NULL AND (placed_at, key) < ($1::timestamptz, $2)', [cursorAt, cursorId]],
  ];
  // The stats window's count by status (order-summary.queries.ts), which the live feed asks for every second.
  const statsPlan = await view.pool.query<{ 'QUERY PLAN': string }>(
    "EXPLAIN (ANALYZE, BUFFERS) SELECT status, count(*)::int AS orders FROM order_summary WHERE placed_at >= now() - interval '15 minutes' GROUP BY status ORDER BY status",
  );
  console.log(`\nEXPLAIN ANALYZE stats window 15m, by status:\n${statsPlan.rows.map((r) => `  ${r['QUERY PLAN']}`).join('\n')}`);
  for (const [name, where, params] of explained) {
    const plan = await view.pool.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS) SELECT doc FROM order_summary WHERE ${where} ORDER BY placed_at DESC, key DESC LIMIT 26`,
      params,
    );
    console.log(`\nEXPLAIN ANALYZE ${name}:\n${plan.rows.map((r) => `  ${r['QUERY PLAN']}`).join('\n')}`);
  }
} finally {
  await consoleProcess?.kill('SIGTERM');
  await view.stop();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
}
