#!/usr/bin/env node
// Rebuild speed of the order summary projection: publishes synthetic saga traffic (a confirmed
// order's eight messages across eight topics), then runs `pnpm projections rebuild order-summary`
// against a scratch view database, so its progress bar and its final events/s line show.
//
//   pnpm build && pnpm bench:rebuild [--events 100000]
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { causedBy, createEnvelope, toKafkaMessage, topicName, topicKeys, type Envelope, type MessageType, type PayloadOf } from '@order-saga/contracts';
import { createScratchDatabase } from '@order-saga/database';
import { createKafka, ensureTopics } from '@order-saga/outbox';
import { testInfra, uniqueTopicPrefix } from '@order-saga/testing';
import { Command } from 'commander';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const opts = new Command('bench:rebuild')
  .option('--events <n>', 'messages to publish and rebuild from', '100000')
  .parse()
  .opts<{ events: string }>();
const events = Number(opts.events);

const prefix = uniqueTopicPrefix('rebuild-bench');
const infra = testInfra();
const kafka = createKafka({ clientId: 'rebuild-bench', brokers: infra.kafkaBrokers });
await ensureTopics(kafka, topicKeys.map((k) => topicName(k, prefix)));
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await producer.connect();

const items = [{ sku: 'widget', quantity: 2 }];
const address = { country: 'FR', city: 'Paris', line1: '1 rue de Rivoli' };
function confirmedOrder(i: number): Envelope[] {
  const orderId = randomUUID();
  const out: Envelope[] = [];
  const add = <T extends MessageType>(type: T, payload: PayloadOf<T>) => {
    const cause = out.at(-1);
    out.push(createEnvelope(type, payload, cause ? causedBy(cause) : { correlationId: orderId }) as Envelope);
  };
  add('OrderPlaced', { orderId, customerId: `customer-${i % 1000}`, items, total: 2000, shippingAddress: address });
  add('ReserveStock', { orderId, items });
  add('StockReserved', { orderId, items });
  add('ChargePayment', { orderId, customerId: `customer-${i % 1000}`, amount: 2000 });
  add('PaymentCharged', { orderId, paymentId: `p-${i}`, amount: 2000 });
  add('CreateShipment', { orderId, address, items });
  add('ShipmentCreated', { orderId, shipmentId: `s-${i}` });
  add('OrderConfirmed', { orderId });
  return out;
}

const topicOf: Record<string, string> = {
  OrderPlaced: 'order.events',
  OrderConfirmed: 'order.events',
  ReserveStock: 'inventory.commands',
  StockReserved: 'inventory.events',
  ChargePayment: 'payment.commands',
  PaymentCharged: 'payment.events',
  CreateShipment: 'shipping.commands',
  ShipmentCreated: 'shipping.events',
};

const started = Date.now();
let published = 0;
while (published < events) {
  const batch = new Map<string, ReturnType<typeof toKafkaMessage>[]>();
  for (let i = 0; i < 100 && published < events; i++) {
    for (const envelope of confirmedOrder(published)) {
      const topic = topicName(topicOf[envelope.type] as never, prefix);
      batch.set(topic, [...(batch.get(topic) ?? []), toKafkaMessage(envelope)]);
      published++;
    }
  }
  await producer.sendBatch({ topicMessages: [...batch].map(([topic, messages]) => ({ topic, messages })), acks: -1 });
}
await producer.disconnect();
console.error(`published ${published} messages under ${prefix} in ${((Date.now() - started) / 1000).toFixed(1)} s`);

const db = await createScratchDatabase({
  adminUrl: infra.adminDatabaseUrl,
  prefix: 't_rebuild_bench_view',
  schemaPath: `${repoRoot}/prisma/order-view/schema.prisma`,
  migrationsDir: `${repoRoot}/prisma/order-view/migrations`,
});
try {
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [`${repoRoot}/apps/order-view/dist/cli/projections.cli.js`, 'rebuild', 'order-summary'], {
      stdio: 'inherit',
      env: { ...process.env, DATABASE_URL: db.url, KAFKA_BROKERS: infra.kafkaBrokers.join(','), KAFKA_TOPIC_PREFIX: prefix },
    });
    child.once('exit', resolve);
  });
  process.exitCode = code ?? 1;
} finally {
  await db.drop();
}
