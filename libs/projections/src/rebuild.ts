import { randomBytes } from 'node:crypto';
import { topicName } from '@order-saga/contracts';
import { ensureTopics } from '@order-saga/outbox';
import type { Admin, Kafka } from 'kafkajs';
import pg from 'pg';
import {
  acquireRebuildLock,
  checkpoints,
  createGeneration,
  generations,
  liveGeneration,
  setCheckpoints,
  switchLive,
} from './catalogue.js';
import { RetentionGapError, generationPosition, retentionGaps, type GenerationPosition } from './position.js';
import { generationTable, topicKeysOf, type AnyProjection } from './projection.js';
import { ProjectionRunner, projectionGroupId, type RunnerEvents } from './runner.js';

export interface RebuildOptions {
  pool: pg.Pool;
  kafka: Kafka;
  projection: AnyProjection;
  topicPrefix?: string;
  /** How often progress is measured and reported. */
  pollMs?: number;
  /**
   * The new generation is switched in once its lag is at most this many records: under steady
   * traffic lag rarely reads exactly 0, and the rest is applied right after the switch.
   */
  switchAtLag?: number;
  onProgress?: (position: GenerationPosition, generation: number) => void;
  /** Called once the generation is chosen: `resumed` when an interrupted rebuild is continued. */
  onStart?: (generation: number, resumed: boolean) => void;
  events?: RunnerEvents;
  /** Aborting stops the rebuild where it is (resumable), without switching. */
  signal?: AbortSignal;
  /**
   * Replay instead of rebuilding from offset 0: the new generation starts as a copy of the live
   * one, rewound to `positions`, and re-applies everything from there. Only for projections whose
   * `evolve` ignores a message it has already seen (the copy holds messages past the rewind).
   */
  replayFrom?: (topic: string, partition: number) => bigint;
  /** Caps the rebuild's apply rate (events/s); unset: as fast as it goes. */
  maxEventsPerSecond?: number;
  /** Partitions applied at once; default 4 (a rebuild has a backlog on every partition). */
  concurrency?: number;
}

export interface RebuildResult {
  generation: number;
  resumed: boolean;
  switched: boolean;
  /** Records applied by this run. */
  applied: number;
  seconds: number;
}

/**
 * Builds a new generation of a projection from the earliest offset while the live generation keeps
 * serving, then switches readers to it atomically once it has caught up (blue/green).
 *
 * - One rebuild per projection at a time: a second one fails with {@link RebuildInProgressError}.
 * - Resumable: an interrupted rebuild (even SIGKILL) leaves its generation `building` with its
 *   checkpoints; the next run continues that generation from them.
 * - Refuses with {@link RetentionGapError} when records it needs were deleted by retention.
 */
export async function rebuild(options: RebuildOptions): Promise<RebuildResult> {
  const { pool, kafka, projection } = options;
  const prefix = options.topicPrefix ?? '';
  const started = Date.now();
  const lock = await acquireRebuildLock(pool, projection.name);
  const admin = kafka.admin();
  await admin.connect();
  let runner: ProjectionRunner | undefined;
  try {
    // A fresh system may not have created every topic yet; offsets can only be read from topics.
    await ensureTopics(kafka, topicKeysOf(projection).map((key) => topicName(key, prefix)));
    const building = (await generations(pool, projection.name)).find((g) => g.state === 'building');
    let generation: number;
    if (building) {
      generation = building.generation;
      const gaps = retentionGaps(await generationPosition(pool, admin, projection, generation, prefix));
      if (gaps.length > 0) throw new RetentionGapError(projection.name, gaps);
    } else if (options.replayFrom) {
      generation = await startReplay(pool, admin, projection, prefix, options.replayFrom);
    } else {
      // Generation 0 never has checkpoints: its position is that of a rebuild from offset 0.
      const gaps = retentionGaps(await generationPosition(pool, admin, projection, 0, prefix));
      if (gaps.length > 0) throw new RetentionGapError(projection.name, gaps);
      generation = await createGeneration(pool, projection);
    }
    options.onStart?.(generation, !!building);
    let applied = 0;
    let failure: unknown;
    runner = new ProjectionRunner({
      pool,
      kafka,
      projection,
      generation,
      topicPrefix: prefix,
      // A group of its own per run: positions live in the database, and a run restarted after a
      // crash must not wait for the dead run's session to time out.
      maxEventsPerSecond: options.maxEventsPerSecond,
      // A rate cap is per partition batch: applying partitions one at a time keeps it a global cap.
      concurrency: options.maxEventsPerSecond ? 1 : (options.concurrency ?? 4),
      groupId: `${projectionGroupId(projection.name, generation, prefix)}.rebuild-${randomBytes(3).toString('hex')}`,
      events: {
        ...options.events,
        applied: (topic, partition, next, count) => {
          applied += count;
          options.events?.applied?.(topic, partition, next, count);
        },
        error: (error) => {
          failure = error;
          options.events?.error?.(error);
        },
      },
    });
    await runner.start();
    const pollMs = options.pollMs ?? 500;
    const switchAtLag = options.switchAtLag ?? 0;
    for (;;) {
      if (failure) throw failure;
      const position = await generationPosition(pool, admin, projection, generation, prefix);
      options.onProgress?.(position, generation);
      if (options.signal?.aborted) {
        return { generation, resumed: !!building, switched: false, applied, seconds: (Date.now() - started) / 1000 };
      }
      if (position.lagMessages <= switchAtLag) break;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
    await switchLive(pool, projection, generation);
    return { generation, resumed: !!building, switched: true, applied, seconds: (Date.now() - started) / 1000 };
  } finally {
    await runner?.stop().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await lock.release();
  }
}

async function startReplay(
  pool: pg.Pool,
  admin: Admin,
  projection: AnyProjection,
  prefix: string,
  replayFrom: (topic: string, partition: number) => bigint,
): Promise<number> {
  const live = await liveGeneration(pool, projection.name);
  if (live === null) throw new Error(`${projection.name} has no live generation to replay: rebuild it instead`);
  const position = await generationPosition(pool, admin, projection, live, prefix);
  const rewound = position.partitions.map((p) => {
    const wanted = replayFrom(p.topic, p.partition);
    // Never forward: a replay re-applies, it does not skip what the live generation has not seen.
    return { topic: p.topic, partition: p.partition, next: wanted < p.next ? wanted : p.next };
  });
  const gaps = rewound
    .map((r, i) => ({ ...r, low: position.partitions[i]!.low }))
    .filter((r) => r.next < r.low)
    .map((r) => ({ topic: r.topic, partition: r.partition, needed: r.next, earliest: r.low }));
  if (gaps.length > 0) throw new RetentionGapError(projection.name, gaps);
  const generation = await createGeneration(pool, projection);
  const { escapeIdentifier: id } = pg;
  await pool.query(
    `INSERT INTO ${id(generationTable(projection, generation))} SELECT * FROM ${id(generationTable(projection, live))}`,
  );
  // Partitions the live generation never applied keep no checkpoint: they start at 0 as usual.
  const applied = new Set((await checkpoints(pool, projection.name, live)).map((c) => `${c.topic}:${c.partition}`));
  await setCheckpoints(
    pool,
    projection.name,
    generation,
    rewound.filter((r) => applied.has(`${r.topic}:${r.partition}`)),
  );
  return generation;
}
