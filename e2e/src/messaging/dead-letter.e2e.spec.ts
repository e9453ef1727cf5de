import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DLT_HEADERS } from '@order-saga/consumer';
import { OutboxRelay } from '@order-saga/outbox';
import { waitFor, type TestProcess } from '@order-saga/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countRows,
  effectCounts,
  readTopic,
  recordEntry,
  scenario,
  startConsumer,
  type Scenario,
} from './scenario.js';

const dltCli = fileURLToPath(new URL('../../../libs/consumer/dist/cli/dlt.cli.js', import.meta.url));
const run = promisify(execFile);

describe('dead-letter topic and replay', () => {
  let s: Scenario;
  let relay: OutboxRelay;
  let consumer: TestProcess;
  const dlt = (...args: string[]) =>
    run(process.execPath, [dltCli, ...args], {
      env: { ...process.env, KAFKA_BROKERS: s.brokers.join(','), KAFKA_TOPIC_PREFIX: s.prefix },
    });

  beforeAll(async () => {
    s = await scenario('deadletter');
    relay = new OutboxRelay({ databaseUrl: s.databaseUrl, kafka: s.kafka, pollIntervalMs: 200 });
    relay.start();
    consumer = startConsumer(s, { CONSUMER_MAX_ATTEMPTS: '3' });
    await consumer.waitForOutput(/ledger consumer ready/);
  });
  afterAll(async () => {
    await consumer?.stop();
    await relay?.stop();
    await s?.dispose();
  });

  it('dead-letters a poison message at once and a throwing handler after N attempts, and keeps the partition flowing', async () => {
    // Poison: valid headers, payload that breaks the contract (seq must be an int ≥ 0), produced
    // straight to the topic as a faulty peer would.
    const producer = s.kafka.producer();
    await producer.connect();
    await producer.send({
      topic: s.topic,
      messages: [
        {
          key: 'agg-x',
          value: JSON.stringify({ aggregateId: 'agg-x', seq: -5 }),
          headers: {
            id: '0190f5a0-0000-7000-8000-000000000001',
            type: 'LedgerEntryRecorded',
            'schema-version': '1',
            'occurred-at': new Date().toISOString(),
            'aggregate-type': 'ledger',
            'correlation-id': 'poison-test',
          },
        },
      ],
    });
    await producer.disconnect();
    // Then, on the same key (same partition): a message whose handler throws, then good ones.
    await s.prisma.fault.create({ data: { type: 'always-throws' } });
    await recordEntry(s, 'agg-x', { note: 'always-throws' });
    for (let i = 0; i < 5; i++) await recordEntry(s, 'agg-x');

    const dead = await readTopic(s.kafka, s.dlt, (m) => m.length >= 2, 60_000);
    const [poison, thrown] = dead;
    expect(poison!.headers[DLT_HEADERS.errorClass]).toBe('ContractViolation');
    expect(poison!.headers[DLT_HEADERS.errorMessage]).toMatch(/seq/);
    expect(poison!.headers[DLT_HEADERS.attempts]).toBe('0');
    expect(thrown!.headers[DLT_HEADERS.errorClass]).toBe('LedgerFault');
    expect(thrown!.headers[DLT_HEADERS.attempts]).toBe('3');
    for (const m of dead) {
      expect(m.headers[DLT_HEADERS.originalTopic]).toBe(s.topic);
      expect(m.headers[DLT_HEADERS.originalPartition]).toBe(String(m.partition));
      expect(m.headers[DLT_HEADERS.originalOffset]).toMatch(/^\d+$/);
      expect(Date.parse(m.headers[DLT_HEADERS.firstFailureAt]!)).toBeLessThanOrEqual(
        Date.parse(m.headers[DLT_HEADERS.lastFailureAt]!),
      );
    }
    // The five good messages behind them on that partition were applied.
    await waitFor(async () => (await effectCounts(s)).total === 5, {
      timeoutMs: 30_000,
      message: () => consumer.logs.slice(-3000),
    });
  });

  it('lists dead letters with filters, and a replay applies the message once however often it is replayed', async () => {
    const listed = (
      await dlt('list', '--json', '--type', 'LedgerEntryRecorded', '--aggregate', 'agg-x')
    ).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(listed).toHaveLength(2);
    expect((await dlt('list', '--json', '--aggregate', 'no-such-aggregate')).stdout.trim()).toBe('');
    const thrown = listed.find((r) => r.errorClass === 'LedgerFault');

    await s.prisma.fault.delete({ where: { type: 'always-throws' } });
    await dlt('replay', '--message-id', thrown.messageId);
    await waitFor(async () => (await effectCounts(s)).total === 6, {
      timeoutMs: 30_000,
      message: () => consumer.logs.slice(-3000),
    });
    await dlt('replay', '--message-id', thrown.messageId);
    // The second copy reaches the topic and the consumer, which skips it.
    await readTopic(s.kafka, s.topic, (m) => m.filter((x) => x.id === thrown.messageId).length >= 3);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await effectCounts(s)).toEqual({ total: 6, distinct: 6, maxPerMessage: 1 });
    expect(
      await countRows(s, 'SELECT count(*) AS n FROM effect WHERE message_id = $1::uuid', thrown.messageId),
    ).toBe(1);
  });

  it('a dead letter delivered again (crash before the offset commit) is not processed again, and a replay still applies it', async () => {
    await s.prisma.fault.create({ data: { type: 'redelivered' } });
    await recordEntry(s, 'agg-r', { note: 'redelivered' });
    const letter = (await readTopic(s.kafka, s.dlt, (m) => m.some((x) => x.value.note === 'redelivered'))).find(
      (x) => x.value.note === 'redelivered',
    )!;
    await s.prisma.fault.delete({ where: { type: 'redelivered' } });
    const appliedTimes = () =>
      countRows(s, 'SELECT count(*) AS n FROM effect WHERE message_id = $1::uuid', letter.id);

    // The same record again, as the partition's next owner reads it when the consumer crashed
    // after the dead-letter produce but before its offset commit; then an entry behind it.
    const original = (await readTopic(s.kafka, s.topic, (m) => m.some((x) => x.id === letter.id))).find(
      (x) => x.id === letter.id,
    )!;
    const producer = s.kafka.producer();
    await producer.connect();
    await producer.send({
      topic: s.topic,
      messages: [{ key: original.key, value: JSON.stringify(original.value), headers: original.headers }],
    });
    await producer.disconnect();
    await recordEntry(s, 'agg-r');
    await waitFor(async () => (await countRows(s, `SELECT count(*) AS n FROM effect WHERE aggregate_id = 'agg-r'`)) >= 1, {
      timeoutMs: 30_000,
      message: () => consumer.logs.slice(-3000),
    });

    expect(await appliedTimes()).toBe(0);
    const [inbox] = await s.prisma.$queryRawUnsafe<{ outcome: string }[]>(
      'SELECT outcome FROM inbox WHERE message_id = $1::uuid',
      letter.id,
    );
    expect(inbox?.outcome).toBe('dead-lettered');

    await dlt('replay', '--message-id', letter.id);
    await waitFor(async () => (await appliedTimes()) === 1, {
      timeoutMs: 30_000,
      message: () => consumer.logs.slice(-3000),
    });
  });
});
