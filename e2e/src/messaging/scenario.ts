import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { deadLetterTopic, topicsFor } from '@order-saga/contracts';
import { createScratchDatabase } from '@order-saga/database';
import { Outbox, createKafka, ensureTopics } from '@order-saga/outbox';
import { TestProcess, testInfra, uniqueTopicPrefix, waitFor } from '@order-saga/testing';
import type { Kafka } from 'kafkajs';
import { scratchAdminUrl } from '../debezium/cdc.js';
import { testbedClient, type PrismaClient, type TestbedTx } from '../fixtures/testbed.js';

const e2eRoot = fileURLToPath(new URL('../..', import.meta.url));
/** Compiled fixture processes (the test command builds before it tests). */
export const fixtures = {
  consumer: `${e2eRoot}/dist/fixtures/ledger-consumer.main.js`,
  relay: `${e2eRoot}/dist/fixtures/relay.main.js`,
};

export interface Scenario {
  databaseUrl: string;
  /** The scratch database's name (Debezium's connector and slot are named after it). */
  databaseName: string;
  prisma: PrismaClient;
  kafka: Kafka;
  brokers: string[];
  prefix: string;
  topic: string;
  dlt: string;
  outbox: Outbox;
  /** Env for fixture processes of this scenario. */
  env(extra?: Record<string, string>): Record<string, string>;
  dispose(): Promise<void>;
}

/** A scratch database with the test-bed schema and topics of its own: nothing shared with other suites. */
export async function scenario(
  name: string,
  options: { brokers?: string[]; adminUrl?: string } = {},
): Promise<Scenario> {
  const infra = testInfra();
  const brokers = options.brokers ?? infra.kafkaBrokers;
  const db = await createScratchDatabase({
    adminUrl: options.adminUrl ?? scratchAdminUrl(),
    prefix: `t_${name.replace(/\W/g, '_')}`,
    schemaPath: `${e2eRoot}/prisma/schema.prisma`,
    migrationsDir: `${e2eRoot}/prisma/migrations`,
  });
  const prefix = uniqueTopicPrefix(name);
  const topic = topicsFor(prefix).ledger.events;
  const kafka = createKafka({ clientId: `test-${name}`, brokers });
  await ensureTopics(kafka, [topic, deadLetterTopic(topic)]);
  const prisma = testbedClient(db.url);
  return {
    databaseUrl: db.url,
    databaseName: db.name,
    prisma,
    kafka,
    brokers,
    prefix,
    topic,
    dlt: deadLetterTopic(topic),
    outbox: new Outbox({ topicPrefix: prefix }),
    env: (extra = {}) => ({
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      ...extra,
    }),
    async dispose() {
      await prisma.$disconnect();
      await db.drop();
    },
  };
}

/**
 * One writer transaction: bump the aggregate's version (which locks its row, serialising writers of
 * one aggregate) and enqueue the event announcing it, as a service's handler would.
 */
export async function recordEntry(
  s: Scenario,
  aggregateId: string,
  options: { holdMs?: number; note?: string } = {},
): Promise<void> {
  await s.prisma.$transaction(
    async (tx: TestbedTx) => {
      const { version } = await tx.aggregate.upsert({
        where: { id: aggregateId },
        create: { id: aggregateId, version: 1 },
        update: { version: { increment: 1 } },
      });
      await s.outbox.enqueue(
        {
          type: 'LedgerEntryRecorded',
          payload: { aggregateId, seq: version, ...(options.note ? { note: options.note } : {}) },
        },
        tx,
      );
      // Held open after the insert: its outbox id is taken, but later ids commit first.
      if (options.holdMs) await new Promise((r) => setTimeout(r, options.holdMs));
    },
    { timeout: 30_000, maxWait: 30_000 },
  );
}

/** `count` entries over `aggregates` aggregates by `writers` concurrent writers; every `holdEvery`-th transaction is held open. */
export async function writeEntries(
  s: Scenario,
  {
    count,
    aggregates,
    writers,
    holdEvery = 0,
    holdMs = 150,
  }: { count: number; aggregates: number; writers: number; holdEvery?: number; holdMs?: number },
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (next < count) {
        const n = next++;
        await recordEntry(s, `agg-${n % aggregates}`, {
          holdMs: holdEvery && n % holdEvery === 0 ? holdMs : 0,
        });
      }
    }),
  );
}

export interface TopicMessage {
  key: string;
  id: string;
  type: string;
  partition: number;
  offset: string;
  value: { aggregateId: string; seq: number; note?: string };
  headers: Record<string, string>;
}

/** Reads a topic from its start until `until` holds, with a throwaway consumer group. */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  until: (messages: TopicMessage[]) => boolean,
  timeoutMs = 60_000,
): Promise<TopicMessage[]> {
  const messages: TopicMessage[] = [];
  const consumer = kafka.consumer({ groupId: `reader-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(m.headers ?? {}))
          headers[k] = String(Array.isArray(v) ? v[0] : v);
        messages.push({
          key: m.key?.toString() ?? '',
          id: headers.id ?? '',
          type: headers.type ?? '',
          partition: batch.partition,
          offset: m.offset,
          value: JSON.parse(m.value?.toString() ?? 'null'),
          headers,
        });
      }
    },
  });
  try {
    await waitFor(() => until(messages), {
      timeoutMs,
      intervalMs: 100,
      message: () =>
        `topic ${topic}: condition not met after ${timeoutMs} ms with ${messages.length} messages`,
    });
    return messages;
  } finally {
    await consumer.disconnect();
  }
}

/** First delivery of each message id, in topic order per partition. */
export function firstDeliveries(messages: TopicMessage[]): TopicMessage[] {
  const seen = new Set<string>();
  return messages.filter((m) => !seen.has(m.id) && !!seen.add(m.id));
}

/** Aggregates whose entries did not arrive as 1, 2, 3, … (each aggregate's commit order). */
export function outOfOrderAggregates(messages: TopicMessage[]): string[] {
  const expected = new Map<string, number>();
  const broken = new Set<string>();
  for (const m of firstDeliveries(messages)) {
    const want = (expected.get(m.key) ?? 0) + 1;
    if (m.value.seq !== want) broken.add(m.key);
    expected.set(m.key, m.value.seq);
  }
  return [...broken];
}

/** How many times each message's effect was applied (effect rows per message id). */
export async function effectCounts(
  s: Scenario,
): Promise<{ total: number; distinct: number; maxPerMessage: number }> {
  const [row] = await s.prisma.$queryRawUnsafe<{ total: bigint; distinct: bigint; max: number | null }[]>(
    `SELECT count(*) AS total, count(DISTINCT message_id) AS distinct,
            (SELECT max(c) FROM (SELECT count(*) AS c FROM effect GROUP BY message_id) x)::int AS max FROM effect`,
  );
  return { total: Number(row!.total), distinct: Number(row!.distinct), maxPerMessage: row!.max ?? 0 };
}

export function startConsumer(
  s: Scenario,
  extra: Record<string, string> = {},
  name = 'consumer',
): TestProcess {
  return new TestProcess(name, fixtures.consumer, s.env(extra)).start();
}

export function startRelay(s: Scenario, extra: Record<string, string> = {}, name = 'relay'): TestProcess {
  return new TestProcess(name, fixtures.relay, s.env({ RELAY_NAME: name, ...extra })).start();
}

/** Runs a `SELECT count(*) AS n …` on the scenario's database. */
export async function countRows(s: Scenario, sql: string, ...params: unknown[]): Promise<number> {
  const rows = await s.prisma.$queryRawUnsafe<{ n: bigint }[]>(sql, ...params);
  return Number(rows[0]?.n ?? 0);
}
