import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { DLT_HEADERS } from '@order-saga/consumer';
import { deadLetterTopic, topicName } from '@order-saga/contracts';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConsoleConfig } from './config.js';
import { createConsoleServer, type ConsoleServer } from './server.js';

const brokers = process.env.TEST_KAFKA_BROKERS ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const kafka = new Kafka({ clientId: 'console-server-test', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
const prefix = `t-console-api-${randomBytes(3).toString('hex')}.`;
const TOKEN = 'console-api-test-admin-token-0123';
const commands = topicName('inventory.commands', prefix);
const dlt = deadLetterTopic(commands);
let console_: ConsoleServer;
let base: string;

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [commands, dlt].map((topic) => ({ topic, numPartitions: 2 })), waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: dlt,
    messages: [
      {
        partition: 1,
        key: 'order-1',
        value: '{"orderId":"order-1","items":"<script>x</script>"}',
        headers: {
          id: 'message-1',
          type: 'ReserveStock',
          [DLT_HEADERS.originalTopic]: commands,
          [DLT_HEADERS.originalPartition]: '1',
          [DLT_HEADERS.originalOffset]: '7',
          [DLT_HEADERS.errorClass]: 'ContractViolation',
          [DLT_HEADERS.errorMessage]: 'ReserveStock v1: items: expected array',
          [DLT_HEADERS.attempts]: '0',
        },
      },
    ],
  });
  await producer.disconnect();
  const config = loadConsoleConfig({
    SERVICE_NAME: 'console',
    KAFKA_BROKERS: brokers,
    KAFKA_TOPIC_PREFIX: prefix,
    ADMIN_TOKEN: TOKEN,
  });
  console_ = createConsoleServer(config, kafka, '/nonexistent');
  await new Promise<void>((resolve) => console_.server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(console_.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await console_?.close();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [commands, dlt] }).catch(() => undefined);
  await admin.disconnect();
});

async function json(path: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${base}${path}`, init);
  return { status: response.status, body: await response.json() };
}

describe('the console API over real dead-letter topics', () => {
  it('lists_every_dead_letter_topic_with_its_message_count', async () => {
    // Several times: the list once answered 500 on every call (its Kafka client was closed while
    // the offset requests were under way).
    for (let i = 0; i < 3; i++) {
      const { status, body } = await json('/api/dead-letters');
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body).toContainEqual({ topic: dlt, messages: 1 });
      expect(body).toContainEqual({ topic: deadLetterTopic(topicName('ledger.events', prefix)), messages: 0 });
    }
  });

  it('shows_a_dead_letter_with_its_cause_replays_it_for_a_signed_in_admin_and_then_shows_it_replayed', async () => {
    const listed = await json(`/api/dead-letters/${dlt}`);
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject([
      { partition: 1, offset: '0', key: 'order-1', errorClass: 'ContractViolation', originalOffset: '7', replayed: false },
    ]);

    const login = await fetch(`${base}/api/session`, { method: 'POST', body: JSON.stringify({ token: TOKEN }) });
    const { csrf } = (await login.json()) as { csrf: string };
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const replay = await json(`/api/dead-letters/${dlt}/replay`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ position: '1:0' }),
    });
    expect(replay).toEqual({ status: 200, body: { replayed: 1, positions: ['1:0'], error: null } });

    expect((await json(`/api/dead-letters/${dlt}`)).body).toMatchObject([{ partition: 1, offset: '0', replayed: true }]);
    const offsets = await (async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        return await admin.fetchTopicOffsets(commands);
      } finally {
        await admin.disconnect();
      }
    })();
    // Sent back with its original key (one partition's worth of messages in all).
    expect(offsets.reduce((n, p) => n + Number(p.high), 0)).toBe(1);
  });
});
