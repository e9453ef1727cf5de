import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { deadLetterTopic, topicsFor } from '@order-saga/contracts';
import { createKafka } from '@order-saga/outbox';
import { parsePrometheusText, testInfra, waitFor, type MetricFamily } from '@order-saga/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { anOrder, SagaSystem, services, type Service } from '../saga/system.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const run = promisify(execFile);

interface CatalogEntry {
  owner: string;
  type: 'counter' | 'gauge' | 'histogram';
  /** Exported only with this relay (OUTBOX_RELAY); this system runs the in-process relay. */
  relay?: string;
}
const catalog = (
  parse(readFileSync(`${repoRoot}/observability/metrics.yml`, 'utf8')) as {
    metrics: Record<string, CatalogEntry>;
  }
).metrics;

// Owners that are not part of SagaSystem: their metrics cannot be scraped here. Listed, so that a
// new owner is never skipped silently.
const notInThisSystem: Record<string, string> = {
  'order-view':
    'the read side runs in its own suite: e2e/src/read-side checks projection_rebuild_duration_seconds after a rebuild',
};

/**
 * The operator's figures, from the processes that own them: one system (four services, real Kafka
 * and PostgreSQL) for every test, which run in order and build on each other's traffic.
 */
describe('every operator signal is a metric, and moves when the system does', () => {
  let system: SagaSystem;
  let topics: ReturnType<typeof topicsFor>;

  beforeAll(async () => {
    // Deadlines far beyond the outages below: the figures, not the saga's retries, are under test.
    system = await SagaSystem.start('observe', { SAGA_STEP_TIMEOUT_MS: '120000' });
    topics = topicsFor(system.prefix);
  });
  afterAll(async () => {
    await system?.stop();
  });

  async function scrape(service: Service): Promise<Map<string, MetricFamily>> {
    const response = await fetch(`http://127.0.0.1:${system.ports.get(service)}/metrics`);
    expect(response.status).toBe(200);
    return new Map(parsePrometheusText(await response.text()).map((f) => [f.name, f]));
  }

  /** Sum of a gauge's or counter's samples whose labels include `labels`; undefined when none. */
  async function figure(
    service: Service,
    name: string,
    labels: Record<string, string> = {},
  ): Promise<number | undefined> {
    const samples = (await scrape(service))
      .get(name)
      ?.metrics.filter((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
    if (!samples || samples.length === 0) return undefined;
    return samples.reduce((sum, s) => sum + Number(s.value ?? s.count), 0);
  }

  async function until(
    service: Service,
    name: string,
    labels: Record<string, string>,
    accept: (value: number | undefined) => boolean,
    timeoutMs = 45_000,
  ): Promise<number | undefined> {
    let last: number | undefined;
    await waitFor(async () => accept((last = await figure(service, name, labels))), {
      timeoutMs,
      intervalMs: 500,
      message: () => `${service} ${name}${JSON.stringify(labels)} is ${last}\n${system.tail(800)}`,
    });
    return last;
  }

  /** Restarts a killed service even when the test failed, so that the next test has a whole system. */
  async function whileDown(service: Service, work: () => Promise<void>): Promise<void> {
    await system.kill(service);
    try {
      await work();
    } finally {
      if (!(await fetch(`http://127.0.0.1:${system.ports.get(service)}/health`).catch(() => null)))
        await system.startService(service);
    }
  }

  const placeSome = async (n: number) =>
    Promise.all(Array.from({ length: n }, () => system.place(anOrder())));

  it('lag seen from the broker rises while a participant is down and returns to 0 after its restart', async () => {
    const lag = { group: `${system.prefix}inventory`, topic: topics.inventory.commands };
    await Promise.all((await placeSome(2)).map((id) => system.waitForTerminal(id)));
    await until('order', 'consumer_lag_messages', lag, (v) => v === 0);

    let orders: string[] = [];
    await whileDown('inventory', async () => {
      orders = await placeSome(5);
      // Every ReserveStock waits on the topic, unread: the dead consumer reports nothing, the broker does.
      const behind = await until('order', 'consumer_lag_messages', lag, (v) => (v ?? 0) >= 5);
      expect(behind).toBeGreaterThanOrEqual(5);
      expect(await figure('order', 'consumer_lag_seconds', lag)).toBeGreaterThan(0);
    });
    await until('order', 'consumer_lag_messages', lag, (v) => v === 0);
    for (const id of orders) expect((await system.waitForTerminal(id)).status).toBe('CONFIRMED');
  });

  it('a relay without the leadership leaves rows unpublished, and their age grows until a relay leads again', async () => {
    // A stuck replica that holds the outbox leadership: the running relay's session is ended and
    // its advisory lock taken by this connection, so the relay stays a standby.
    const holder = new pg.Client({ connectionString: system.databases.get('order')!.url });
    await holder.connect();
    try {
      const [lock] = (
        await holder.query<{ pid: number; key: string }>(
          `SELECT l.pid, ((l.classid::bigint << 32) | l.objid::bigint)::text AS key
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'outbox-relay'
              AND a.datname = current_database()`,
        )
      ).rows;
      expect(lock, 'the order relay holds its leader lock').toBeDefined();
      await holder.query('SELECT pg_terminate_backend($1)', [lock!.pid]);
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [lock!.key]);
      await until('order', 'outbox_relay_leader', {}, (v) => v === 0);
      const publishedBefore = (await figure('order', 'outbox_published_total')) ?? 0;

      const orders = await placeSome(3);
      await until('order', 'outbox_unpublished_rows', {}, (v) => (v ?? 0) >= 3);
      const age = (await figure('order', 'outbox_oldest_unpublished_age_seconds'))!;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await figure('order', 'outbox_oldest_unpublished_age_seconds')).toBeGreaterThan(age);
      expect(await figure('order', 'outbox_published_total')).toBe(publishedBefore);

      await holder.end();
      await until('order', 'outbox_relay_leader', {}, (v) => v === 1);
      await until('order', 'outbox_unpublished_rows', {}, (v) => v === 0);
      expect(await figure('order', 'outbox_oldest_unpublished_age_seconds')).toBe(0);
      expect(await figure('order', 'outbox_published_total')).toBeGreaterThanOrEqual(publishedBefore + 3);
      for (const id of orders) expect((await system.waitForTerminal(id)).status).toBe('CONFIRMED');
    } finally {
      await holder.end().catch(() => undefined);
    }
  });

  it('a poison message counts as a schema failure and a dead letter; a replay lowers the dead letters', async () => {
    const topic = topics.inventory.commands;
    const dlt = deadLetterTopic(topic);
    const kafka = createKafka({ clientId: 'observe-poison', brokers: testInfra().kafkaBrokers });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [{ key: 'poison', value: '{"not": "a ReserveStock"', headers: { type: 'ReserveStock' } }],
    });
    await producer.disconnect();

    await until('inventory', 'consumer_schema_failures_total', { topic }, (v) => v === 1);
    await until('inventory', 'consumer_messages_total', { topic, outcome: 'dead_lettered' }, (v) => v === 1);
    await until('order', 'dead_letter_messages', { topic: dlt }, (v) => v === 1);

    // Replayed while inventory is down, the message waits on its topic: nothing sends it back yet.
    await whileDown('inventory', async () => {
      const { stdout } = await run(
        process.execPath,
        [
          `${repoRoot}/libs/consumer/dist/cli/dlt.cli.js`,
          'replay',
          '--all',
          '--topic',
          'inventory.commands',
          '--prefix',
          system.prefix,
          '--brokers',
          testInfra().kafkaBrokers.join(','),
        ],
        { cwd: repoRoot },
      );
      expect(stdout).toContain('1 message(s) replayed');
      await until('order', 'dead_letter_messages', { topic: dlt }, (v) => v === 0);
      await until('order', 'dead_letter_replay_duration_seconds', {}, (v) => v === 1);
    });

    // Still poison: the restarted consumer dead-letters the replayed copy again, and it counts anew.
    await until('order', 'dead_letter_messages', { topic: dlt }, (v) => v === 1);
    await until('inventory', 'consumer_schema_failures_total', { topic }, (v) => v === 1);
  });

  it('every metric of the catalog is exposed by the service that owns it, with its type', async () => {
    // Enough traffic for every histogram to have a sample: sagas end, every service consumes and publishes.
    await Promise.all((await placeSome(2)).map((id) => system.waitForTerminal(id)));
    const scrapes = new Map(await Promise.all(services.map(async (s) => [s, await scrape(s)] as const)));
    const missing: string[] = [];
    for (const [name, { owner, type, relay }] of Object.entries(catalog)) {
      if (owner in notInThisSystem || (relay !== undefined && relay !== 'inprocess')) continue;
      const owners = owner === 'every' ? services : services.filter((s) => s === owner);
      expect(owners, `owner ${owner} of ${name} is a service of this system`).not.toHaveLength(0);
      for (const service of owners) {
        const family = scrapes.get(service)!.get(name);
        if (!family) missing.push(`${service}: ${name}`);
        else expect(family.type, `${service} ${name}`).toBe(type.toUpperCase());
      }
    }
    expect(missing).toEqual([]);
    expect(
      Object.values(catalog)
        .map((m) => m.owner)
        .filter((o) => o in notInThisSystem),
    ).toEqual(['order-view']);
  });
});
