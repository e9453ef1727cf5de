import { randomBytes } from 'node:crypto';
import { DLT_HEADERS, REPLAY_MARKER_HEADERS } from '@order-saga/consumer';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeadLetterReader } from './dead-letter-reader.js';

const brokers = (process.env.TEST_KAFKA_BROKERS ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const kafka = new Kafka({ clientId: 'dead-letter-reader-test', brokers, logLevel: logLevel.NOTHING });
const topic = `t-console-dlt-${randomBytes(3).toString('hex')}.inventory.commands.dlt`;
const producer = kafka.producer();

/** A dead letter as the consumer transport writes it: the original message plus the cause headers. */
function deadLetter(partition: number, n: number) {
  return {
    partition,
    key: `order-${n}`,
    value: JSON.stringify({ orderId: `order-${n}`, items: '<script>x</script>' }),
    headers: {
      id: `message-${n}`,
      type: 'ReserveStock',
      [DLT_HEADERS.originalTopic]: 'inventory.commands',
      [DLT_HEADERS.originalPartition]: String(partition),
      [DLT_HEADERS.originalOffset]: String(100 + n),
      [DLT_HEADERS.errorClass]: 'ContractViolation',
      [DLT_HEADERS.errorMessage]: 'ReserveStock v1: items: expected array',
      [DLT_HEADERS.attempts]: '0',
      [DLT_HEADERS.firstFailureAt]: '2026-12-02T04:00:00.000Z',
      [DLT_HEADERS.lastFailureAt]: '2026-12-02T04:00:00.000Z',
    },
  };
}

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
  await admin.disconnect();
  await producer.connect();
});

afterAll(async () => {
  await producer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

describe('the console reading a dead-letter topic', () => {
  it('a_later_read_fetches_only_what_was_appended_and_sees_replay_markers', async () => {
    const reads: string[] = [];
    const reader = new DeadLetterReader(kafka, { onRead: (_, p, from, to) => reads.push(`${p}:${from}-${to}`) });
    await producer.send({ topic, messages: [deadLetter(0, 1), deadLetter(0, 2), deadLetter(1, 3)] });

    const first = await reader.read(topic);
    expect(first.map((r) => [r.partition, r.offset, r.key, r.errorClass, r.originalOffset, r.replayed])).toEqual([
      [0, '0', 'order-1', 'ContractViolation', '101', false],
      [0, '1', 'order-2', 'ContractViolation', '102', false],
      [1, '0', 'order-3', 'ContractViolation', '103', false],
    ]);
    expect(reads.sort()).toEqual(['0:0-2', '1:0-1']);

    // Nothing new: no consumer at all, the same letters.
    reads.length = 0;
    expect(await reader.read(topic)).toEqual(first);
    expect(reads).toEqual([]);

    // A replay of order-2 (its marker) and a new dead letter on partition 1.
    await producer.send({
      topic,
      messages: [
        { partition: 0, key: 'order-2', value: '{"replayOf":"0:1"}', headers: { [REPLAY_MARKER_HEADERS.replayOf]: '0:1', [REPLAY_MARKER_HEADERS.replayId]: 'run-1' } },
        deadLetter(1, 4),
      ],
    });
    const later = await reader.read(topic);
    expect(reads.sort()).toEqual(['0:2-3', '1:1-2']);
    expect(later.map((r) => [r.partition, r.offset, r.key, r.replayed])).toEqual([
      [0, '0', 'order-1', false],
      [0, '1', 'order-2', true],
      [1, '0', 'order-3', false],
      [1, '1', 'order-4', false],
    ]);
    expect((await reader.read(topic, { notReplayed: true, type: 'ReserveStock' })).map((r) => r.key)).toEqual([
      'order-1',
      'order-3',
      'order-4',
    ]);
  });

  it('reads_asked_for_at_once_never_read_a_record_twice', async () => {
    const reader = new DeadLetterReader(kafka);
    const all = await Promise.all([reader.read(topic), reader.read(topic), reader.read(topic, { position: '1:1' })]);
    expect(all[0]!.map((r) => `${r.partition}:${r.offset}`)).toEqual(['0:0', '0:1', '1:0', '1:1']);
    expect(all[1]).toEqual(all[0]);
    expect(all[2]!.map((r) => r.key)).toEqual(['order-4']);
  });

  it('records_the_broker_deleted_are_forgotten_and_markers_of_those_kept_still_count', async () => {
    const reader = new DeadLetterReader(kafka);
    expect((await reader.read(topic, { notReplayed: true })).map((r) => r.key)).toEqual(['order-1', 'order-3', 'order-4']);
    // Retention (here: an explicit delete) moves partition 0's start past order-1.
    const admin = kafka.admin();
    await admin.connect();
    // kafkajs' deleteTopicRecords finds the leaders in metadata it does not load itself.
    await admin.fetchTopicMetadata({ topics: [topic] });
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '1' }] });
    await admin.disconnect();
    const kept = await reader.read(topic);
    expect(kept.map((r) => [r.key, r.replayed])).toEqual([
      ['order-2', true],
      ['order-3', false],
      ['order-4', false],
    ]);
  });
});
