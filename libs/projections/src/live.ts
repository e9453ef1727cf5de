import type { Admin, Kafka } from 'kafkajs';
import type pg from 'pg';
import { RebuildInProgressError, liveGeneration } from './catalogue.js';
import { generationPosition, topicRetentionMs, type GenerationPosition } from './position.js';
import { topicKeysOf, type AnyProjection } from './projection.js';
import { topicName } from '@order-saga/contracts';
import { rebuild } from './rebuild.js';
import { ProjectionRunner } from './runner.js';

/** How a service logs what its projections do. */
export interface ProjectionLog {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface LiveProjectionOptions {
  pool: pg.Pool;
  kafka: Kafka;
  projection: AnyProjection;
  topicPrefix?: string;
  log: ProjectionLog;
  /** How often the catalogue (switches) and the position (freshness) are re-read. */
  pollMs?: number;
}

/** What `/health` and the freshness of every answer are made of. */
export interface ProjectionStatus {
  name: string;
  state: 'starting' | 'back-filling' | 'live';
  generation: number | null;
  position: GenerationPosition | null;
  retentionMs: Record<string, number>;
}

/**
 * Keeps a projection's live generation running in a service: runs the generation readers see,
 * follows a switch made by `pnpm projections rebuild` (stops the old runner, starts the new one),
 * and on first start, with no generation yet, back-fills one from history the way a rebuild does.
 */
export class LiveProjection {
  private runner?: ProjectionRunner;
  private runnerGeneration: number | null = null;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private admin?: Admin;
  private current: ProjectionStatus;
  private backfill?: Promise<unknown>;
  private readonly abort = new AbortController();

  constructor(private readonly options: LiveProjectionOptions) {
    this.current = { name: options.projection.name, state: 'starting', generation: null, position: null, retentionMs: {} };
  }

  get status(): ProjectionStatus {
    return this.current;
  }

  async start(): Promise<void> {
    this.admin = this.options.kafka.admin();
    await this.admin.connect();
    await this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    clearTimeout(this.timer);
    await this.backfill?.catch(() => undefined);
    await this.runner?.stop();
    await this.admin?.disconnect();
  }

  private schedule(): void {
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.options.pollMs ?? 1000);
  }

  private async tick(): Promise<void> {
    const { pool, projection, log } = this.options;
    const prefix = this.options.topicPrefix ?? '';
    try {
      const live = await liveGeneration(pool, projection.name);
      if (live === null) {
        this.startBackfill();
      } else if (live !== this.runnerGeneration) {
        await this.runner?.stop();
        this.runner = new ProjectionRunner({
          pool,
          kafka: this.options.kafka,
          projection,
          generation: live,
          topicPrefix: prefix,
          concurrency: 3,
          events: {
            undecodable: (topic, partition, offset, reason) =>
              log.error('projection skipped an undecodable record', { projection: projection.name, topic, partition, offset, reason }),
            error: (error) => {
              log.error('projection runner failed; restarting it', { projection: projection.name, err: error });
              // The next tick sees no runner for the live generation and starts one.
              this.runnerGeneration = null;
            },
          },
        });
        this.runnerGeneration = null;
        try {
          await this.runner.start();
        } catch (error) {
          await this.runner.stop().catch(() => undefined);
          throw error;
        }
        // Only once started: a runner that failed to start is started again on the next tick.
        this.runnerGeneration = live;
        log.info('projection live', { projection: projection.name, generation: live });
      }
      const generation = live ?? this.current.generation;
      if (generation !== null && this.admin) {
        const topics = topicKeysOf(projection).map((key) => topicName(key, prefix));
        this.current = {
          name: projection.name,
          state: live === null ? 'back-filling' : 'live',
          generation,
          position: await generationPosition(pool, this.admin, projection, generation, prefix),
          retentionMs: await topicRetentionMs(this.admin, topics).catch(() => this.current.retentionMs),
        };
      }
    } catch (error) {
      log.error('projection supervision failed', { projection: projection.name, err: error });
    } finally {
      this.schedule();
    }
  }

  private startBackfill(): void {
    if (this.backfill) return;
    const { projection, log } = this.options;
    this.current = { ...this.current, state: 'back-filling' };
    this.backfill = rebuild({
      pool: this.options.pool,
      kafka: this.options.kafka,
      projection,
      topicPrefix: this.options.topicPrefix,
      signal: this.abort.signal,
      pollMs: 1000,
      onStart: (generation, resumed) => {
        this.current = { ...this.current, generation };
        log.info(`projection back-fill ${resumed ? 'resumed' : 'started'}`, { projection: projection.name, generation });
      },
      onProgress: (position, generation) => {
        this.current = { ...this.current, generation, position };
      },
    })
      .then((result) => {
        if (result.switched) log.info('projection back-filled', { projection: projection.name, ...result });
      })
      .catch((error: unknown) => {
        // Another process (the rebuild tool) is building it: follow the catalogue until it switches.
        if (!(error instanceof RebuildInProgressError)) log.error('projection back-fill failed', { projection: projection.name, err: error });
      })
      .finally(() => {
        this.backfill = undefined;
      });
  }
}
