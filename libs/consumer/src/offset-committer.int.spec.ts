import { randomBytes } from 'node:crypto';
import { createKafka, ensureTopics } from '@order-saga/outbox';
import type { Consumer, ConsumerGroupJoinEvent } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { OffsetCommitter } from './offset-committer.js';

const brokers = (process.env.TEST_KAFKA_BROKERS ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const prefix = `t-offsets-${randomBytes(3).toString('hex')}.`;
const kafka = createKafka({ clientId: 'offset-committer-test', brokers });
const consumers: Consumer[] = [];
afterAll(async () => {
  for (const c of consumers) await c.disconnect().catch(() => undefined);
});

/** A running group member that does nothing with messages; resolves its joins' assignments in order. */
async function member(groupId: string, topic: string) {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 500 });
  consumers.push(consumer);
  const joins: number[][] = [];
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }: ConsumerGroupJoinEvent) =>
    joins.push([...(payload.memberAssignment[topic] ?? [])].sort()),
  );
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ autoCommit: false, eachBatch: async () => undefined });
  return { consumer, joins };
}

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('OffsetCommitter on a real consumer group', () => {
  it('does not overwrite the new owner commit with the offset of a partition it lost in a rebalance', async () => {
    const topic = `${prefix}orders`;
    const groupId = `${prefix}group`;
    await ensureTopics(kafka, [topic], 2);
    // Offsets must lie within each partition's log, or a member's fetch resets them.
    const producer = kafka.producer();
    await producer.connect();
    for (const partition of [0, 1])
      await producer.send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ value: String(i), partition })) });
    await producer.disconnect();
    const a = await member(groupId, topic);
    await until(() => a.joins.length === 1, 'the first member to join');
    expect(a.joins[0]).toEqual([0, 1]);
    // Never on its own timer in this test: the commit happens at the flush below.
    const committer = new OffsetCommitter(a.consumer, () => undefined, 600_000);
    committer.advance(topic, 0, '5');
    committer.advance(topic, 1, '5');

    // A second member joins: each gets one partition. The new owner of A's lost partition goes
    // further and commits.
    const b = await member(groupId, topic);
    await until(() => a.joins.length === 2 && b.joins.length === 1, 'the rebalance');
    const [lost] = b.joins[0]!;
    const [kept] = a.joins[1]!;
    await b.consumer.commitOffsets([{ topic, partition: lost!, offset: '15' }]);

    await committer.flush(30_000);

    const admin = kafka.admin();
    await admin.connect();
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    await admin.disconnect();
    const committed = Object.fromEntries(offsets!.partitions.map((p) => [p.partition, p.offset]));
    expect(committed[lost!]).toBe('15');
    expect(committed[kept!]).toBe('5');
  }, 90_000);
});
