import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { OutboxRelay } from '@order-saga/outbox';
import { waitFor, type TestProcess } from '@order-saga/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { effectCounts, scenario, startConsumer, writeEntries, type Scenario } from './scenario.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
// A broker of its own: stopping the shared one would break every suite running beside this one.
const port = 19_092;
const runDir = `${repoRoot}/.run/kafka-broker-outage-test`;
const kafkaScript = (command: 'start' | 'stop') =>
  execFileSync('bash', [`${repoRoot}/scripts/kafka.sh`, command], {
    env: { ...process.env, KAFKA_PORT: String(port), KAFKA_RUN_DIR: runDir },
    stdio: 'pipe',
  });

describe('broker stopped while services write', () => {
  let s: Scenario;
  let relay: OutboxRelay;
  let consumer: TestProcess;

  beforeAll(async () => {
    rmSync(runDir, { recursive: true, force: true });
    kafkaScript('start');
    s = await scenario('brokeroutage', { brokers: [`127.0.0.1:${port}`] });
    relay = new OutboxRelay({ databaseUrl: s.databaseUrl, kafka: s.kafka, pollIntervalMs: 200 });
    relay.start();
    consumer = startConsumer(s);
    await consumer.waitForOutput(/ledger consumer ready/);
  });
  afterAll(async () => {
    await consumer?.stop();
    await relay?.stop();
    await s?.dispose();
    kafkaScript('stop');
    rmSync(runDir, { recursive: true, force: true });
  });

  it('commits writes during the outage, holds the rows, and delivers each once after the restart', async () => {
    await writeEntries(s, { count: 300, aggregates: 10, writers: 4 });
    await waitFor(async () => (await effectCounts(s)).total === 300, {
      timeoutMs: 60_000,
      message: () => consumer.logs.slice(-3000),
    });

    kafkaScript('stop');
    await writeEntries(s, { count: 700, aggregates: 10, writers: 4 });
    await new Promise((r) => setTimeout(r, 5000));
    expect(await s.prisma.outbox.count({ where: { publishedAt: null } })).toBe(700);
    expect((await effectCounts(s)).total).toBe(300);

    kafkaScript('start');
    await waitFor(async () => (await effectCounts(s)).distinct === 1000, {
      timeoutMs: 120_000,
      message: () => consumer.logs.slice(-3000),
    });
    await waitFor(async () => (await s.prisma.outbox.count({ where: { publishedAt: null } })) === 0, {
      timeoutMs: 30_000,
    });
    expect(await effectCounts(s)).toEqual({ total: 1000, distinct: 1000, maxPerMessage: 1 });
    expect(consumer.running).toBe(true);
    expect(consumer.logs).not.toMatch(/dead-lettered/);
  });
});
