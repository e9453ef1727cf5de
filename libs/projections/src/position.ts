import { topicName } from '@order-saga/contracts';
import kafkajs, { type Admin } from 'kafkajs';
import type pg from 'pg';
import { checkpoints } from './catalogue.js';

// kafkajs is CommonJS: its enums are reachable from the default export only under Node's ESM.
const { ConfigResourceTypes } = kafkajs;
import { topicKeysOf, type AnyProjection } from './projection.js';

/** One partition of a generation against the topic's retained range. */
export interface PartitionPosition {
  topic: string;
  partition: number;
  /** Next offset the generation will apply (0: nothing yet). */
  next: bigint;
  /** Earliest retained offset: older records were deleted by retention. */
  low: bigint;
  /** Offset the next produced record will get. */
  high: bigint;
  /** Records produced and not applied yet. */
  lag: bigint;
  /** Records between the retention horizon and the position: how much retention may still delete before the projection loses history it has not applied. */
  headroom: bigint;
  lastMessageAt: Date | null;
}

/** Where a generation stands on every partition of its topics, and its freshness. */
export interface GenerationPosition {
  partitions: PartitionPosition[];
  lagMessages: number;
  /** How far behind in time: age of the last applied record on a partition still lagging, 0 when caught up. */
  lagSeconds: number;
  /** Up to when the view is complete: now when caught up, else the time of the last applied record. */
  asOf: Date;
  /** Share of the retained records applied, 0..1. */
  progress: number;
  measuredAt: Date;
}

/**
 * Reads a generation's checkpoints (from its database, the truth) and each partition's retained
 * range (from the broker) and derives its lag, freshness and retention headroom.
 */
export async function generationPosition(
  db: pg.Pool,
  admin: Admin,
  projection: AnyProjection,
  generation: number,
  topicPrefix = '',
): Promise<GenerationPosition> {
  const topics = topicKeysOf(projection).map((key) => topicName(key, topicPrefix));
  const stored = new Map(
    (await checkpoints(db, projection.name, generation)).map((c) => [`${c.topic}:${c.partition}`, c]),
  );
  const now = new Date();
  const partitions: PartitionPosition[] = [];
  for (const topic of topics) {
    const offsets = await admin.fetchTopicOffsets(topic);
    for (const o of offsets) {
      const checkpoint = stored.get(`${topic}:${o.partition}`);
      const low = BigInt(o.low);
      const high = BigInt(o.high);
      // A partition never applied starts at the retention horizon: what it still needs is there.
      const next = checkpoint?.next ?? 0n;
      const from = next > low ? next : low;
      partitions.push({
        topic,
        partition: o.partition,
        next,
        low,
        high,
        lag: high > from ? high - from : 0n,
        headroom: next - low,
        lastMessageAt: checkpoint?.lastMessageAt ?? null,
      });
    }
  }
  partitions.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  const lagging = partitions.filter((p) => p.lag > 0n);
  const lagMessages = Number(lagging.reduce((sum, p) => sum + p.lag, 0n));
  const oldest = lagging.reduce<number | null>((min, p) => {
    const at = p.lastMessageAt?.getTime() ?? null;
    if (at === null) return min;
    return min === null ? at : Math.min(min, at);
  }, null);
  const lagSeconds = lagging.length === 0 ? 0 : oldest === null ? Number.POSITIVE_INFINITY : (now.getTime() - oldest) / 1000;
  const total = partitions.reduce((sum, p) => sum + (p.high - p.low), 0n);
  const done = partitions.reduce((sum, p) => sum + (p.high - p.low - p.lag), 0n);
  return {
    partitions,
    lagMessages,
    lagSeconds,
    asOf: lagging.length === 0 ? now : new Date(oldest ?? 0),
    progress: total === 0n ? 1 : Number((done * 10_000n) / total) / 10_000,
    measuredAt: now,
  };
}

/** A partition whose history a rebuild needs is (partly) deleted. */
export interface RetentionGap {
  topic: string;
  partition: number;
  /** First offset the rebuild needs. */
  needed: bigint;
  /** Earliest offset still retained. */
  earliest: bigint;
}

/** Thrown by a rebuild that would silently miss deleted history. */
export class RetentionGapError extends Error {
  override readonly name = 'RetentionGapError';
  constructor(
    readonly projection: string,
    readonly gaps: readonly RetentionGap[],
  ) {
    super(
      `cannot rebuild ${projection}: history it needs was deleted by retention:\n` +
        gaps
          .map(
            (g) =>
              `  ${g.topic}[${g.partition}]: needs offset ${g.needed}, earliest retained is ${g.earliest} ` +
              `(${g.earliest - g.needed} records gone)`,
          )
          .join('\n') +
        '\nA projection rebuilt without them would be wrong without saying so. Restore the records (e.g. `pnpm topics import` of an export), or raise retention (KAFKA_TOPIC_RETENTION_HOURS) before history expires.',
    );
  }
}

/**
 * The partitions where a generation needs records that are gone: from its checkpoint (or offset 0
 * when it has none) to the earliest retained offset.
 */
export function retentionGaps(position: GenerationPosition): RetentionGap[] {
  return position.partitions
    .filter((p) => p.next < p.low)
    .map((p) => ({ topic: p.topic, partition: p.partition, needed: p.next, earliest: p.low }));
}

/** `retention.ms` of each topic as the broker reports it (-1: unlimited). */
export async function topicRetentionMs(admin: Admin, topics: readonly string[]): Promise<Record<string, number>> {
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['retention.ms'] })),
  });
  const out: Record<string, number> = {};
  for (const resource of resources) {
    const value = resource.configEntries.find((e) => e.configName === 'retention.ms')?.configValue;
    if (value !== undefined && value !== null) out[resource.resourceName] = Number(value);
  }
  return out;
}
