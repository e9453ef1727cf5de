#!/usr/bin/env node
// Lag of the live order summary projection under steady traffic: starts order-view on a scratch
// database, publishes synthetic saga messages at a fixed rate, and samples `/health` (lag in
// messages and seconds) every 500 ms.
//
//   pnpm build && node e2e/dist/read-side/live-lag.bench.js [--rate 1000] [--seconds 30]
import { topicName, topicKeys } from '@order-saga/contracts';
import { createKafka, ensureTopics } from '@order-saga/outbox';
import { testInfra, uniqueTopicPrefix } from '@order-saga/testing';
import { Command } from 'commander';
import { OrderView } from './order-view.js';
import { publishOrders } from './synthetic-orders.js';

const opts = new Command('live-lag')
  .option('--rate <events/s>', 'messages per second', '1000')
  .option('--seconds <n>', 'how long', '30')
  .parse()
  .opts<{ rate: string; seconds: string }>();
const rate = Number(opts.rate);
const seconds = Number(opts.seconds);

const prefix = uniqueTopicPrefix('live-lag');
const kafka = createKafka({ clientId: 'live-lag-bench', brokers: testInfra().kafkaBrokers });
await ensureTopics(
  kafka,
  topicKeys.map((k) => topicName(k, prefix)),
);
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await producer.connect();
// One order first, so that the back-fill has something to switch on.
await publishOrders(producer, prefix, 1);
const view = await OrderView.start('live_lag', prefix);
try {
  await view.caughtUp();
  const samples: { lagMessages: number; lagSeconds: number }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const health = await view.get<{ projections: { lagMessages: number; lagSeconds: number }[] }>(
        '/health',
      );
      samples.push(health.body.projections[0]!);
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  // Ticks of 100 ms, each publishing the orders (8 messages each) due by then.
  const started = Date.now();
  let published = 0;
  let order = 1;
  while (Date.now() - started < seconds * 1000) {
    const due = Math.floor(((Date.now() - started) / 1000) * rate);
    const orders = Math.floor((due - published) / 8);
    if (orders > 0) {
      published += await publishOrders(producer, prefix, orders, order);
      order += orders;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const achieved = published / ((Date.now() - started) / 1000);
  const drainStarted = Date.now();
  await view.caughtUp();
  sampling = false;
  await sampler;
  const sorted = (key: 'lagMessages' | 'lagSeconds') => samples.map((s) => s[key]).sort((a, b) => a - b);
  const pct = (list: number[], p: number) =>
    list[Math.min(list.length - 1, Math.floor(list.length * p))] ?? 0;
  const messages = sorted('lagMessages');
  const secs = sorted('lagSeconds');
  console.log(
    JSON.stringify({
      targetRate: rate,
      achievedRate: Math.round(achieved),
      published,
      samples: samples.length,
      lagMessages: { p50: pct(messages, 0.5), p95: pct(messages, 0.95), max: messages.at(-1) },
      lagSeconds: { p50: pct(secs, 0.5), p95: pct(secs, 0.95), max: secs.at(-1) },
      drainSeconds: (Date.now() - drainStarted) / 1000,
    }),
  );
} finally {
  await producer.disconnect();
  await view.stop();
}
