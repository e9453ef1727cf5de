import { DLT_HEADERS } from '@order-saga/consumer';
import { OutboxRelay } from '@order-saga/outbox';
import { waitFor, type TestProcess } from '@order-saga/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, readTopic, recordEntry, scenario, startConsumer, type Scenario } from './scenario.js';

describe('a message whose handler outlasts the transaction timeout', () => {
  let s: Scenario;
  let relay: OutboxRelay;
  let consumer: TestProcess | undefined;

  beforeAll(async () => {
    s = await scenario('slowhandler');
    relay = new OutboxRelay({ databaseUrl: s.databaseUrl, kafka: s.kafka, pollIntervalMs: 200 });
    relay.start();
  });
  afterAll(async () => {
    await consumer?.stop();
    await relay?.stop();
    await s?.dispose();
  });

  it('is dead-lettered after its attempts, its neighbours in the chunk are applied, and the member keeps its place in the group', async () => {
    for (let i = 0; i < 2; i++) await recordEntry(s, 'agg-s');
    await recordEntry(s, 'agg-s', { note: 'slow' });
    for (let i = 0; i < 2; i++) await recordEntry(s, 'agg-s');
    // All five on the topic before the consumer starts: they arrive in one batch, one chunk.
    const published = await readTopic(s.kafka, s.topic, (m) => m.length >= 5);
    const slow = published.find((m) => m.value.note === 'slow')!;

    // The slow entry takes 7 s: past the 1.5 s transaction timeout, and past the 6 s session
    // timeout (the broker's minimum), so only heartbeats sent during the transaction keep the
    // member in its group.
    consumer = startConsumer(s, {
      SLOW_HANDLER_MS: '7000',
      TRANSACTION_TIMEOUT_MS: '1500',
      SESSION_TIMEOUT_MS: '6000',
      CONSUMER_MAX_ATTEMPTS: '2',
    });
    const applied = () => countRows(s, 'SELECT count(*) AS n FROM effect');
    // Bounded: today's transport retries the timed-out chunk forever, and this wait fails.
    await waitFor(async () => (await applied()) === 4, {
      timeoutMs: 90_000,
      message: () => `not applied in time; consumer log:\n${consumer!.logs.slice(-3000)}`,
    });
    const [letter] = await readTopic(s.kafka, s.dlt, (m) => m.length >= 1, 30_000);

    expect(letter!.id).toBe(slow.id);
    expect(letter!.headers[DLT_HEADERS.errorClass]).toBe('TransactionTimeoutError');
    expect(letter!.headers[DLT_HEADERS.attempts]).toBe('2');
    expect(await countRows(s, 'SELECT count(*) AS n FROM effect WHERE message_id = $1::uuid', slow.id)).toBe(0);
    // One join, at start: the member was never evicted, so the group never rebalanced.
    expect(consumer.logs.match(/joined its group/g)).toHaveLength(1);
    expect(consumer.logs).not.toMatch(/waiting out/);
  });
});
