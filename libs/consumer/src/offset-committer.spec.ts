import { EventEmitter } from 'node:events';
import type { ConsumerGroupJoinEvent, TopicPartitionOffsetAndMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { OffsetCommitter, type CommittingConsumer } from './offset-committer.js';

/**
 * A consumer group coordinator in miniature: it records commits, refuses them while told to (as
 * Kafka's coordinator does during a rebalance), and lets the test announce the member's joins.
 */
class Coordinator {
  readonly committed = new Map<string, string>();
  refusals = 0;
  private readonly events = new EventEmitter();

  readonly consumer = {
    events: { GROUP_JOIN: 'consumer.group_join' },
    on: (event: string, listener: (e: ConsumerGroupJoinEvent) => void) => {
      this.events.on(event, listener);
      return () => this.events.off(event, listener);
    },
    commitOffsets: async (offsets: TopicPartitionOffsetAndMetadata[]) => {
      await Promise.resolve();
      if (this.refusals > 0) {
        this.refusals -= 1;
        throw Object.assign(new Error('The group is rebalancing'), { type: 'REBALANCE_IN_PROGRESS' });
      }
      for (const o of offsets) this.committed.set(`${o.topic}:${o.partition}`, o.offset);
    },
  } as unknown as CommittingConsumer;

  join(memberId: string, memberAssignment: Record<string, number[]>): void {
    this.events.emit('consumer.group_join', { payload: { memberId, memberAssignment } });
  }
}

const quiet = () => undefined;

describe('OffsetCommitter: offsets of owned partitions are kept, offsets of revoked ones dropped', () => {
  it('keeps retrying the offset of a partition it still owns, however often the coordinator refuses', async () => {
    const group = new Coordinator();
    const committer = new OffsetCommitter(group.consumer, quiet, 1);
    group.join('m-1', { orders: [0, 1] });
    // Four refusals in a row: as many as a slow rebalance gives.
    group.refusals = 4;

    committer.advance('orders', 0, '42');
    await committer.flush(30_000);

    expect(group.committed.get('orders:0')).toBe('42');
  }, 15_000);

  it('drops the pending offset of a partition revoked in a rebalance, so the new owner commit is not overwritten', async () => {
    const group = new Coordinator();
    const committer = new OffsetCommitter(group.consumer, quiet, 1);
    group.join('m-1', { orders: [0, 1] });
    group.refusals = 1;
    committer.advance('orders', 0, '10');
    committer.advance('orders', 1, '20');
    const flushing = committer.flush(30_000);

    // The rebalance: this member keeps partition 0; partition 1 goes to another member, which
    // applies more messages and commits a newer offset.
    group.join('m-1', { orders: [0] });
    group.committed.set('orders:1', '35');
    await flushing;

    expect(group.committed.get('orders:0')).toBe('10');
    expect(group.committed.get('orders:1')).toBe('35');
  });

  it('drops everything pending when it rejoins as a new member: its old partitions may have had other owners since', async () => {
    const group = new Coordinator();
    const committer = new OffsetCommitter(group.consumer, quiet, 1);
    group.join('m-1', { orders: [0] });
    group.refusals = 1;
    committer.advance('orders', 0, '10');
    const flushing = committer.flush(30_000);

    group.join('m-2', { orders: [0] });
    group.committed.set('orders:0', '50');
    await flushing;

    expect(group.committed.get('orders:0')).toBe('50');
  });
});
