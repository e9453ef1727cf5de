import { OutboxRelay } from '@order-saga/outbox';
import { waitFor, type TestProcess } from '@order-saga/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { effectCounts, scenario, startConsumer, writeEntries, type Scenario } from './scenario.js';

describe('consumer killed mid-batch', () => {
  let s: Scenario;
  let relay: OutboxRelay;
  let consumer: TestProcess;

  beforeAll(async () => {
    s = await scenario('consumercrash');
    relay = new OutboxRelay({ databaseUrl: s.databaseUrl, kafka: s.kafka, pollIntervalMs: 200 });
    relay.start();
  });
  afterAll(async () => {
    await consumer?.stop();
    await relay?.stop();
    await s?.dispose();
  });

  it('applies every effect exactly once after a SIGKILL and a restart', async () => {
    const count = 3000;
    await writeEntries(s, { count, aggregates: 30, writers: 4 });
    // A slow handler keeps batches open long enough for the kill to land inside one.
    consumer = startConsumer(s, { HANDLER_DELAY_MS: '2' });
    await waitFor(async () => (await effectCounts(s)).total >= 400, {
      timeoutMs: 60_000,
      message: () => consumer.logs,
    });
    await consumer.kill('SIGKILL');
    const atKill = await effectCounts(s);
    expect(atKill.total).toBeLessThan(count);

    consumer = startConsumer(s);
    await waitFor(async () => (await effectCounts(s)).distinct === count, {
      timeoutMs: 90_000,
      message: () => consumer.logs.slice(-3000),
    });
    // Let any redelivered message run through before counting.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await effectCounts(s)).toEqual({ total: count, distinct: count, maxPerMessage: 1 });
  });
});
