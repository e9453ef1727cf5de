import { randomUUID } from 'node:crypto';
import {
  DEAD_LETTER_READER_GROUP_PREFIX,
  REPLAY_MARKER_HEADERS,
  deadLetterRecordOf,
  headerText,
  matchesDeadLetter,
  type DeadLetterFilter,
  type DeadLetterRecord,
} from '@order-saga/consumer';
import type { Kafka, KafkaMessage } from 'kafkajs';

/** One partition's offsets as the broker reports them (`admin.fetchTopicOffsets`). */
export interface PartitionOffsets {
  partition: number;
  low: string;
  high: string;
}

/** What one refresh does to a partition: forget what the broker no longer has, read [from, to). */
export interface PartitionPlan {
  partition: number;
  /** Records kept from earlier reads below this offset are gone from the broker. */
  dropBelow: bigint;
  from: bigint;
  to: bigint;
}

/**
 * Plans a refresh from where each partition was left (`positions`: the next offset to read) to its
 * current end. Records that retention deleted are forgotten; a partition whose end is now before
 * the position is a topic deleted and created again, so everything kept of it is forgotten and it
 * is read from its start.
 */
export function planReads(positions: ReadonlyMap<number, bigint>, offsets: readonly PartitionOffsets[]): PartitionPlan[] {
  return offsets.map(({ partition, low, high }) => {
    const start = BigInt(low);
    const end = BigInt(high);
    const position = positions.get(partition) ?? start;
    if (end < position) return { partition, dropBelow: position, from: start, to: end };
    return { partition, dropBelow: start, from: position > start ? position : start, to: end };
  });
}

/** Whether a dead letter matches the page's (or the replay's) filter. */
export const matches = matchesDeadLetter;


/** What the console keeps of one dead-letter topic between refreshes. */
class TopicLog {
  /** Next offset to read, per partition. */
  readonly positions = new Map<number, bigint>();
  private readonly records = new Map<number, DeadLetterRecord[]>();
  /** `<partition>:<offset>` of the records a replay marker names. */
  private readonly replayed = new Map<number, Set<string>>();
  /** Refreshes run one after another: two at once would read the same records twice. */
  queue: Promise<unknown> = Promise.resolve();

  constructor(readonly topic: string) {}

  forgetBelow(partition: number, offset: bigint): void {
    const kept = this.records.get(partition);
    if (kept) this.records.set(partition, kept.filter((r) => BigInt(r.offset) >= offset));
    const named = this.replayed.get(partition);
    if (named) for (const position of named) if (BigInt(position.split(':')[1]!) < offset) named.delete(position);
  }

  add(partition: number, message: KafkaMessage): void {
    const headers = headerText(message.headers);
    // A marker lands in the partition of the record it names, after it (replayDeadLetters).
    const replayOf = headers[REPLAY_MARKER_HEADERS.replayOf];
    if (replayOf !== undefined) {
      if (!this.replayed.has(partition)) this.replayed.set(partition, new Set());
      this.replayed.get(partition)!.add(replayOf);
    } else {
      if (!this.records.has(partition)) this.records.set(partition, []);
      this.records.get(partition)!.push(deadLetterRecordOf(this.topic, partition, message, headers));
    }
    this.positions.set(partition, BigInt(message.offset) + 1n);
  }

  /** Every record kept, in partition then offset order, each saying whether a marker names it. */
  all(): DeadLetterRecord[] {
    return [...this.records.keys()]
      .sort((a, b) => a - b)
      .flatMap((partition) =>
        this.records.get(partition)!.map((r) => ({
          ...r,
          replayed: this.replayed.get(partition)?.has(`${r.partition}:${r.offset}`) ?? false,
        })),
      );
  }
}

export interface DeadLetterReaderOptions {
  /** Longest a refresh may take to reach the partitions' ends before the request fails. */
  readTimeoutMs?: number;
  /** Called for each range a refresh reads from the broker (a hook for tests and logs). */
  onRead?: (topic: string, partition: number, from: bigint, to: bigint) => void;
}

/**
 * The console's view of the dead-letter topics. Each call reads only what was appended since the
 * previous one (the page asks again on every live change, so re-reading a whole topic each time
 * cost a consumer-group join and the topic's full size per open page per change). Nothing is
 * committed: a throw-away group per refresh, deleted afterwards, so no listing changes what
 * another reader sees. Keeps every record of the topics it was asked about in memory, as the
 * whole-topic read it replaces held them per request.
 */
export class DeadLetterReader {
  private readonly logs = new Map<string, TopicLog>();
  private readonly readTimeoutMs: number;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: DeadLetterReaderOptions = {},
  ) {
    this.readTimeoutMs = options.readTimeoutMs ?? 30_000;
  }

  /** The topic's dead letters matching `filter`, including any appended since the last call. */
  async read(topic: string, filter: DeadLetterFilter = {}): Promise<DeadLetterRecord[]> {
    let log = this.logs.get(topic);
    if (!log) this.logs.set(topic, (log = new TopicLog(topic)));
    const current = log;
    const refreshed = current.queue.then(() => this.refresh(current));
    current.queue = refreshed.catch(() => undefined);
    await refreshed;
    return current.all().filter((r) => matches(r, filter));
  }

  private async refresh(log: TopicLog): Promise<void> {
    const { topic } = log;
    const admin = this.kafka.admin();
    await admin.connect();
    const groupId = `${DEAD_LETTER_READER_GROUP_PREFIX}${randomUUID()}`;
    let joined = false;
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      const plans = planReads(log.positions, offsets);
      for (const plan of plans) {
        log.forgetBelow(plan.partition, plan.dropBelow);
        log.positions.set(plan.partition, plan.from);
      }
      const reads = plans.filter((p) => p.to > p.from);
      if (reads.length === 0) return;
      for (const r of reads) this.options.onRead?.(topic, r.partition, r.from, r.to);

      const pending = new Map(reads.map((r) => [r.partition, r.to]));
      const consumer = this.kafka.consumer({ groupId, allowAutoTopicCreation: false });
      joined = true;
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve, reject) => {
          timer = setTimeout(
            () => reject(new Error(`reading ${topic} did not reach its end within ${this.readTimeoutMs} ms`)),
            this.readTimeoutMs,
          );
          consumer
            .run({
              autoCommit: false,
              eachBatch: async ({ batch }) => {
                const end = pending.get(batch.partition);
                if (end === undefined) return;
                for (const message of batch.messages) {
                  const offset = BigInt(message.offset);
                  // A fetch issued before the seek below starts earlier: skip what is kept already.
                  if (offset >= log.positions.get(batch.partition)! && offset < end) log.add(batch.partition, message);
                }
                // The last offset counts records the batch does not expose (transaction markers).
                if (BigInt(batch.lastOffset()) + 1n >= end) {
                  log.positions.set(batch.partition, end);
                  pending.delete(batch.partition);
                  if (pending.size === 0) resolve();
                }
              },
            })
            .then(() => {
              // Each partition starts where this reader left it; those with nothing new start at
              // their end, so nothing before it is fetched.
              for (const plan of plans) consumer.seek({ topic, partition: plan.partition, offset: plan.from.toString() });
            })
            .catch(reject);
        }).finally(() => clearTimeout(timer));
      } finally {
        await consumer.disconnect();
      }
    } finally {
      if (joined) await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.disconnect();
    }
  }
}
