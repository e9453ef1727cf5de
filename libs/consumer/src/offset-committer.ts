import { setTimeout as sleep } from 'node:timers/promises';
import { meter } from '@order-saga/telemetry';
import type { Consumer, ConsumerGroupJoinEvent } from 'kafkajs';

interface Pending {
  topic: string;
  partition: number;
  offset: string;
}

/** The slice of a kafkajs consumer the committer uses. */
export type CommittingConsumer = Pick<Consumer, 'commitOffsets' | 'on' | 'events'>;

const offsetsDropped = meter('order-saga.consumer').createCounter('consumer_offsets_dropped_total', {
  description: 'Pending offset commits dropped because their partition was revoked in a rebalance',
});

/**
 * Commits consumer offsets off the fetch path. An awaited commit costs 6–7 ms on Kafka 4 (the
 * coordinator's append linger), which would add that much to every batch's latency; instead the
 * newest done offset per partition is committed in the background, coalesced, in order, at most
 * once per `intervalMs`. The broker answers one request per connection at a time, so a commit
 * sent just before a fetch delays that fetch: committing after every batch would put the linger
 * back into the latency of most messages.
 *
 * Only offsets of messages whose effect has committed are ever handed in, so a lost or late
 * commit means redelivery, which the inbox turns into a no-op — never a skipped message.
 *
 * Offsets belong to the assignment they were made under. When the member rejoins, offsets of
 * partitions it no longer owns are dropped: the broker checks the generation of a commit, not who
 * owns the partition, so committing them under the new generation would overwrite the new owner's
 * newer commit and make it re-read what it had done. Offsets of partitions still owned are kept
 * and retried however long the coordinator refuses them (e.g. during the rebalance itself).
 */
export class OffsetCommitter {
  private readonly pending = new Map<string, Pending>();
  private draining?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private memberId?: string;
  private assignment?: Record<string, number[]>;
  /** Counts joins, so a commit that failed across a rejoin knows its offsets may be stale. */
  private joins = 0;
  private stopped = false;

  constructor(
    private readonly consumer: CommittingConsumer,
    private readonly onError: (error: unknown) => void,
    private readonly intervalMs = 100,
  ) {
    consumer.on(consumer.events.GROUP_JOIN, (event: ConsumerGroupJoinEvent) => this.joined(event.payload));
  }

  /** Records that every message before `nextOffset` on this partition is done. */
  advance(topic: string, partition: number, nextOffset: string): void {
    if (this.stopped) return;
    this.pending.set(`${topic}:${partition}`, { topic, partition, offset: nextOffset });
    this.timer ??= setTimeout(() => this.kick(), this.intervalMs);
  }

  /**
   * Commits what is pending now and waits until everything handed in is committed (or dropped as
   * revoked), or `timeoutMs` passed: a shutdown must not wait on a coordinator that refuses.
   */
  async flush(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.kick();
    while (this.draining && Date.now() < deadline) {
      await Promise.race([this.draining, sleep(Math.max(0, deadline - Date.now()))]);
    }
  }

  /** Stops committing (the consumer is leaving); what is still pending is redelivered to the next owner. */
  stop(): void {
    this.stopped = true;
    this.pending.clear();
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The member (re)joined: keep only the offsets of partitions it still owns. */
  private joined({ memberId, memberAssignment }: ConsumerGroupJoinEvent['payload']): void {
    // A new member id means the old membership ended (evicted, or left): its partitions may have
    // had other owners since, so nothing it did is ours to commit any more.
    const sameMember = this.memberId === undefined || this.memberId === memberId;
    this.memberId = memberId;
    this.assignment = memberAssignment;
    this.joins += 1;
    for (const [key, p] of this.pending) {
      if (sameMember && this.owns(p)) continue;
      this.pending.delete(key);
      offsetsDropped.add(1, { 'messaging.destination.name': p.topic });
    }
  }

  private owns(p: Pending): boolean {
    return this.assignment?.[p.topic]?.includes(p.partition) ?? true;
  }

  private kick(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
      if (this.pending.size > 0) this.timer ??= setTimeout(() => this.kick(), this.intervalMs);
    });
  }

  private async drain(): Promise<void> {
    let failures = 0;
    while (this.pending.size > 0 && !this.stopped) {
      const batch = [...this.pending.values()];
      this.pending.clear();
      const member = this.memberId;
      const joins = this.joins;
      try {
        await this.consumer.commitOffsets(batch);
        failures = 0;
      } catch (error) {
        this.onError(error);
        // Put the offsets back unless a newer one arrived meanwhile. Revoked partitions leave
        // `pending` when the member rejoins (see `joined`), so this never retries them forever.
        for (const p of batch) {
          const key = `${p.topic}:${p.partition}`;
          const rejoined = this.joins !== joins;
          // The member rejoined while this commit was out: `joined` did not see these offsets.
          if (rejoined && (this.memberId !== member || !this.owns(p))) {
            offsetsDropped.add(1, { 'messaging.destination.name': p.topic });
            continue;
          }
          if (!this.pending.has(key) && !this.stopped) this.pending.set(key, p);
        }
        failures += 1;
        await sleep(Math.min(100 * 2 ** failures, 2000));
      }
    }
  }
}
