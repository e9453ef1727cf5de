import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor, type TestProcess } from '@order-saga/testing';
import {
  effectCounts,
  readTopic,
  scenario,
  startConsumer,
  startRelay,
  writeEntries,
  type Scenario,
} from './scenario.js';

describe('relay killed between broker ack and mark', () => {
  let s: Scenario;
  let relay: TestProcess;
  let consumer: TestProcess;

  beforeAll(async () => {
    s = await scenario('relaycrash');
  });
  afterAll(async () => {
    await relay?.stop();
    await consumer?.stop();
    await s?.dispose();
  });

  it('re-sends the batch (duplicates on the topic) and the consumer applies each event once', async () => {
    await writeEntries(s, { count: 500, aggregates: 10, writers: 4 });
    relay = startRelay(s, { BATCH_SIZE: '100', CRASH_AFTER_SEND: '1' }, 'relay-crashing');
    await waitFor(() => !relay.running, {
      timeoutMs: 30_000,
      message: () => `relay did not crash:\n${relay.logs}`,
    });
    expect(relay.logs).toMatch(/batch acknowledged/);
    // The acknowledged batch is still unpublished in the database: the crash hit the window.
    expect(await s.prisma.outbox.count({ where: { publishedAt: null } })).toBe(500);

    relay = startRelay(s, { BATCH_SIZE: '100' }, 'relay-restarted');
    consumer = startConsumer(s);
    await waitFor(async () => (await effectCounts(s)).distinct === 500, {
      timeoutMs: 60_000,
      message: () => `consumer logs:\n${consumer.logs.slice(-3000)}`,
    });

    const messages = await readTopic(s.kafka, s.topic, (m) => m.length >= 600);
    expect(messages.length).toBe(600); // 100 re-sent + 500
    expect(new Set(messages.map((m) => m.id)).size).toBe(500);
    expect(await effectCounts(s)).toEqual({ total: 500, distinct: 500, maxPerMessage: 1 });
  });
});
