import { createKafka, ensureTopics } from '@order-saga/outbox';
import { testInfra, uniqueTopicPrefix } from '@order-saga/testing';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerMonitor } from './broker-monitor.js';

describe('BrokerMonitor (real Kafka)', () => {
  const prefix = uniqueTopicPrefix('broker-monitor');
  const topic = `${prefix}payment.commands`;
  const group = `${prefix}payment`;
  let kafka: Kafka;
  let monitor: BrokerMonitor;

  const produce = async (count: number) => {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: count }, (_, i) => ({ key: 'order-1', value: `m${i}` })),
    });
    await producer.disconnect();
  };

  beforeAll(async () => {
    kafka = createKafka({ clientId: 'broker-monitor-test', brokers: testInfra().kafkaBrokers });
    await ensureTopics(kafka, [topic], 3);
    monitor = new BrokerMonitor({ kafka, topicPrefix: prefix });
  });

  afterAll(() => monitor.stop());

  it('sees the lag of a group whose consumer is gone grow as messages arrive', async () => {
    // A consumer that read 4 of 10 messages of one partition, committed, and died.
    await produce(10);
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    const partition = offsets.find((o) => Number(o.high) === 10)!.partition;
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition, offset: '4' }] });
    await admin.disconnect();

    const first = await monitor.sweep();
    const lagOf = (s: typeof first) =>
      s.partitions.find((p) => p.group === group && p.partition === partition);
    expect(lagOf(first)).toMatchObject({ committed: 4, end: 10, lag: 6 });

    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await produce(5);
    const second = await monitor.sweep();
    expect(lagOf(second)).toMatchObject({ committed: 4, end: 15, lag: 11 });
    // The oldest unconsumed message predates the first sweep: at least the second that passed.
    expect(lagOf(second)!.lagSeconds).toBeGreaterThanOrEqual(1);
    // The topic's retention (ensureTopics' default, 30 days) minus that wait.
    expect(lagOf(second)!.headroomSeconds).toBeLessThanOrEqual(720 * 3600 - 1);
    expect(lagOf(second)!.headroomSeconds).toBeGreaterThan(720 * 3600 - 600);
    expect(second.skew.get(topic)).toBe(3); // every message on one of three partitions
  });

  it('counts the partitions where the group never committed, from their start', async () => {
    // The group above committed on one partition only; messages on the others are unread too.
    const other = `${prefix}payment-other`;
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    const full = offsets.find((o) => Number(o.high) > 0)!;
    await admin.setOffsets({
      groupId: other,
      topic,
      partitions: [{ partition: full.partition, offset: full.high }],
    });
    const producer = kafka.producer();
    await producer.connect();
    const empty = offsets.find((o) => o.partition !== full.partition)!.partition;
    await producer.send({
      topic,
      messages: [
        { partition: empty, value: 'a' },
        { partition: empty, value: 'b' },
      ],
    });
    await producer.disconnect();
    await admin.disconnect();

    const snapshot = await monitor.sweep();
    const mine = snapshot.partitions.filter((p) => p.group === other);
    expect(mine.find((p) => p.partition === empty)).toMatchObject({ lag: 2 });
    expect(mine.reduce((sum, p) => sum + p.lag, 0)).toBe(2);
  });

  it('reports no lag and full headroom for a group that committed everything', async () => {
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    const caughtUp = `${prefix}inventory`;
    await admin.setOffsets({
      groupId: caughtUp,
      topic,
      partitions: offsets.map((o) => ({ partition: o.partition, offset: o.high })),
    });
    await admin.disconnect();
    const snapshot = await monitor.sweep();
    const mine = snapshot.partitions.filter((p) => p.group === caughtUp);
    expect(mine).toHaveLength(3);
    for (const p of mine) expect(p).toMatchObject({ lag: 0, lagSeconds: 0 });
  });
});
