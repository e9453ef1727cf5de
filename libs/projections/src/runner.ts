import { fromKafkaMessage, topicName, type TopicKey } from '@order-saga/contracts';
import { ensureTopics, subscribeRetrying } from '@order-saga/outbox';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type pg from 'pg';
import { applyBatch, type BatchRecord } from './apply.js';
import { checkpoints } from './catalogue.js';
import { topicKeysOf, type AnyProjection, type ProjectedMessage } from './projection.js';

/** What the runner reports; a service logs it, the rebuild tool draws progress from it. */
export interface RunnerEvents {
  applied?: (topic: string, partition: number, next: bigint, count: number) => void;
  /** A record that is not a valid message: skipped (its own consumers dead-letter it). */
  undecodable?: (topic: string, partition: number, offset: string, reason: string) => void;
  error?: (error: unknown) => void;
}

export interface ProjectionRunnerOptions {
  pool: pg.Pool;
  kafka: Kafka;
  projection: AnyProjection;
  generation: number;
  topicPrefix?: string;
  /** Most records applied in one transaction. */
  maxBatch?: number;
  /** Defaults to {@link projectionGroupId}; members of one group share the partitions. */
  groupId?: string;
  /** Caps the apply rate, so that a rebuild does not starve the live system of database time. */
  maxEventsPerSecond?: number;
  /**
   * Partitions applied at once (default 1). Safe above 1: every transaction locks its views in key
   * order, so two partitions touching one view wait for each other instead of deadlocking.
   */
  concurrency?: number;
  events?: RunnerEvents;
}

/** The consumer group of a generation: one group per generation, so a rebuild never disturbs the live one. */
export function projectionGroupId(name: string, generation: number, topicPrefix = ''): string {
  return `${topicPrefix}projection.${name}.g${generation}`;
}

/**
 * Runs one generation of a projection: consumes its topics in a consumer group of its own and
 * applies each partition's records through {@link applyBatch}. Positions live in the view
 * database, committed with the views: on every assignment the consumer seeks to them, and Kafka's
 * committed offsets are never read (none are written).
 */
export class ProjectionRunner {
  private consumer?: Consumer;
  private readonly topicKeys: Map<string, TopicKey>;

  constructor(private readonly options: ProjectionRunnerOptions) {
    const prefix = options.topicPrefix ?? '';
    this.topicKeys = new Map(topicKeysOf(options.projection).map((key) => [topicName(key, prefix), key]));
  }

  /** The full topic names this runner consumes. */
  get topics(): string[] {
    return [...this.topicKeys.keys()];
  }

  async start(): Promise<void> {
    const { kafka, projection, generation, pool } = this.options;
    await ensureTopics(kafka, this.topics);
    const consumer = kafka.consumer({
      groupId: this.options.groupId ?? projectionGroupId(projection.name, generation, this.options.topicPrefix),
      // Nothing is ever committed to Kafka, so a join starts here and is moved to the stored
      // position by the seek below; maxBytes keeps a rebuild's batches at a few thousand records.
      maxBytesPerPartition: 1024 * 1024,
      // Short: a member killed without leaving holds its partitions until its session expires.
      sessionTimeout: 10_000,
      heartbeatInterval: 3_000,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      void (async () => {
        const stored = new Map(
          (await checkpoints(pool, projection.name, generation)).map((c) => [`${c.topic}:${c.partition}`, c.next]),
        );
        for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
          for (const partition of partitions) {
            const next = stored.get(`${topic}:${partition}`);
            if (next !== undefined) consumer.seek({ topic, partition, offset: next.toString() });
          }
        }
      })().catch((error: unknown) => this.options.events?.error?.(error));
    });
    // kafkajs restarts the consumer after most crashes; only a crash it gives up on is reported.
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.options.events?.error?.(payload.error);
    });
    await consumer.connect();
    await subscribeRetrying(consumer, { topics: this.topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.concurrency ?? 1,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }

  private async onBatch({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    const { pool, projection, generation } = this.options;
    const rate = this.options.maxEventsPerSecond;
    const maxBatch = Math.min(this.options.maxBatch ?? 2000, rate ? Math.max(1, Math.ceil(rate / 10)) : Infinity);
    const topicKey = this.topicKeys.get(batch.topic)!;
    const reads = new Set<string>(projection.reads);
    for (let start = 0; start < batch.messages.length; start += maxBatch) {
      if (!isRunning() || isStale()) return;
      const chunk = batch.messages.slice(start, start + maxBatch);
      const began = Date.now();
      const records = chunk.map((m) => this.record(batch.topic, topicKey, batch.partition, m, reads));
      const last = chunk[chunk.length - 1]!;
      const result = await applyBatch(
        pool,
        projection,
        generation,
        batch.topic,
        batch.partition,
        records,
        new Date(Number(last.timestamp)),
      );
      resolveOffset(last.offset);
      this.options.events?.applied?.(batch.topic, batch.partition, result.next, result.applied);
      if (rate) {
        const wait = (chunk.length * 1000) / rate - (Date.now() - began);
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      await heartbeat();
    }
  }

  private record(
    topic: string,
    topicKey: TopicKey,
    partition: number,
    message: KafkaMessage,
    reads: ReadonlySet<string>,
  ): BatchRecord {
    const decoded = fromKafkaMessage(message);
    if (!decoded.ok) {
      this.options.events?.undecodable?.(topic, partition, message.offset, decoded.error.message);
      return { offset: message.offset, message: null };
    }
    if (!reads.has(decoded.envelope.type)) return { offset: message.offset, message: null };
    const projected: ProjectedMessage = {
      envelope: decoded.envelope,
      topicKey,
      partition,
      offset: message.offset,
      timestamp: new Date(Number(message.timestamp)).toISOString(),
    };
    return { offset: message.offset, message: projected };
  }
}
