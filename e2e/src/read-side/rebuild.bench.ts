#!/usr/bin/env node
// Rebuild speed of the order summary projection: publishes synthetic saga traffic (a confirmed
// order's eight messages across eight topics), then runs `pnpm projections rebuild order-summary`
// against a scratch view database, so its progress bar and its final events/s line show.
//
//   pnpm build && pnpm bench:rebuild [--events 100000]
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { topicName, topicKeys } from '@order-saga/contracts';
import { createScratchDatabase } from '@order-saga/database';
import { createKafka, ensureTopics } from '@order-saga/outbox';
import { testInfra, uniqueTopicPrefix } from '@order-saga/testing';
import { Command } from 'commander';
import { publishOrders } from './synthetic-orders.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const opts = new Command('bench:rebuild')
  .option('--events <n>', 'messages to publish and rebuild from', '100000')
  .parse()
  .opts<{ events: string }>();
const events = Number(opts.events);

const prefix = uniqueTopicPrefix('rebuild-bench');
const infra = testInfra();
const kafka = createKafka({ clientId: 'rebuild-bench', brokers: infra.kafkaBrokers });
await ensureTopics(
  kafka,
  topicKeys.map((k) => topicName(k, prefix)),
);
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await producer.connect();

const started = Date.now();
let published = 0;
for (let order = 0; published < events; order += 100)
  published += await publishOrders(producer, prefix, 100, order);
await producer.disconnect();
console.error(
  `published ${published} messages under ${prefix} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);

const db = await createScratchDatabase({
  adminUrl: infra.adminDatabaseUrl,
  prefix: 't_rebuild_bench_view',
  schemaPath: `${repoRoot}/prisma/order-view/schema.prisma`,
  migrationsDir: `${repoRoot}/prisma/order-view/migrations`,
});
try {
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(
      process.execPath,
      [`${repoRoot}/apps/order-view/dist/cli/projections.cli.js`, 'rebuild', 'order-summary'],
      {
        stdio: 'inherit',
        env: {
          ...process.env,
          DATABASE_URL: db.url,
          KAFKA_BROKERS: infra.kafkaBrokers.join(','),
          KAFKA_TOPIC_PREFIX: prefix,
        },
      },
    );
    child.once('exit', resolve);
  });
  process.exitCode = code ?? 1;
} finally {
  await db.drop();
}
