import { DLT_HEADERS, readDeadLetters, replayDeadLetters } from '@order-saga/consumer';
import { OutboxRelay } from '@order-saga/outbox';
import { waitFor, type TestProcess } from '@order-saga/testing';
import { ConfigResourceTypes } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, readTopic, recordEntry, scenario, startConsumer, type Scenario } from './scenario.js';

describe('a dead letter the dead-letter topic refuses', () => {
  let s: Scenario;
  let relay: OutboxRelay;
  let consumer: TestProcess;

  beforeAll(async () => {
    s = await scenario('dltrefused');
    // Smaller than the poison message below: the broker answers MESSAGE_TOO_LARGE, which no retry
    // can change.
    const admin = s.kafka.admin();
    await admin.connect();
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: s.dlt,
          configEntries: [{ name: 'max.message.bytes', value: '3000' }],
        },
      ],
    });
    await admin.disconnect();
    relay = new OutboxRelay({ databaseUrl: s.databaseUrl, kafka: s.kafka, pollIntervalMs: 200 });
    relay.start();
    consumer = startConsumer(s, { CONSUMER_MAX_ATTEMPTS: '2' });
    await consumer.waitForOutput(/ledger consumer ready/);
  });
  afterAll(async () => {
    await consumer?.stop();
    await relay?.stop();
    await s?.dispose();
  });

  it('is sent truncated with its cause and position instead of wedging the partition, and cannot be replayed', async () => {
    // A poison message (seq < 0 breaks the contract) too large for the dead-letter topic.
    const producer = s.kafka.producer();
    await producer.connect();
    const [sent] = await producer.send({
      topic: s.topic,
      messages: [
        {
          key: 'agg-big',
          value: JSON.stringify({ aggregateId: 'agg-big', seq: -1, note: 'x'.repeat(20_000) }),
          headers: {
            id: '0190f5a0-0000-7000-8000-0000000000b1',
            type: 'LedgerEntryRecorded',
            'schema-version': '1',
            'occurred-at': new Date().toISOString(),
            'aggregate-type': 'ledger',
            'correlation-id': 'too-large-test',
          },
        },
      ],
    });
    await producer.disconnect();
    // Behind it on the same key (same partition): entries that must still be applied.
    for (let i = 0; i < 3; i++) await recordEntry(s, 'agg-big');

    // Bounded: today's transport retries the refused produce forever and applies nothing behind it.
    await waitFor(async () => (await countRows(s, 'SELECT count(*) AS n FROM effect')) === 3, {
      timeoutMs: 45_000,
      message: () => `entries behind the refused dead letter not applied:\n${consumer.logs.slice(-3000)}`,
    });
    const [letter] = await readTopic(s.kafka, s.dlt, (m) => m.length >= 1, 30_000);
    expect(letter!.id).toBe('0190f5a0-0000-7000-8000-0000000000b1');
    expect(letter!.value).toBeNull();
    expect(letter!.headers[DLT_HEADERS.truncated]).toMatch(/MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE/);
    expect(letter!.headers[DLT_HEADERS.errorClass]).toBe('ContractViolation');
    expect(letter!.headers[DLT_HEADERS.originalPartition]).toBe(String(sent!.partition));
    expect(letter!.headers[DLT_HEADERS.originalOffset]).toBe(sent!.baseOffset);
    expect(consumer.logs).toMatch(/refused .* sending it truncated/);

    const records = await readDeadLetters(s.kafka, s.dlt);
    await expect(replayDeadLetters(s.kafka, records)).rejects.toThrow(/cannot replay truncated dead letters/);
  });
});
