import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer } from 'kafkajs';

interface Pending {
  topic: string;
  partition: number;
  offset: string;
}

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
 */
export class OffsetCommitter {
  private readonly pending = new Map<string, Pending>();
  private draining?: Promise<void>;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly consumer: Consumer,
    private readonly onError: (error: unknown) => void,
    private readonly intervalMs = 100,
  ) {}

  /** Records that every message before `nextOffset` on this partition is done. */
  advance(topic: string, partition: number, nextOffset: string): void {
    this.pending.set(`${topic}:${partition}`, { topic, partition, offset: nextOffset });
    this.timer ??= setTimeout(() => this.kick(), this.intervalMs);
  }

  /** Commits what is pending now and waits until everything handed in is committed (or given up on). */
  async flush(): Promise<void> {
    this.kick();
    while (this.draining) await this.draining;
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
    while (this.pending.size > 0) {
      const batch = [...this.pending.values()];
      this.pending.clear();
      try {
        await this.consumer.commitOffsets(batch);
        failures = 0;
      } catch (error) {
        this.onError(error);
        // Put the offsets back unless a newer one arrived meanwhile; after a few failures (e.g. the
        // partition moved to another member in a rebalance) drop them: the new owner re-reads from
        // the last commit and the inbox skips what was done.
        if (++failures > 3) return;
        for (const p of batch) {
          const key = `${p.topic}:${p.partition}`;
          if (!this.pending.has(key)) this.pending.set(key, p);
        }
        await sleep(Math.min(100 * 2 ** failures, 2000));
      }
    }
  }
}
