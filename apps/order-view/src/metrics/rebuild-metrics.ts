import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { meter } from '@order-saga/telemetry';
import type pg from 'pg';
import { PG_POOL } from '../infra/tokens.js';

const POLL_MS = 5_000;

const rebuildDuration = meter('order-saga-projections').createHistogram(
  'projection_rebuild_duration_seconds',
  {
    description: 'Time from the start of a projection rebuild (a new generation) to its switch-over',
    unit: 's',
    advice: { explicitBucketBoundaries: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200] },
  },
);

/**
 * Rebuilds run in `pnpm projections rebuild` (or as a back-fill inside this service); each one
 * ends by switching a generation, which the catalogue records with its start and switch times.
 * This records every switch that happens while the service runs, once, so the figure does not
 * depend on which process did the rebuild. Switches from before the service started are history
 * and are not recorded again.
 */
@Injectable()
export class RebuildMetrics implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('RebuildMetrics');
  private timer?: NodeJS.Timeout;
  private since = new Date();

  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.poll(), POLL_MS).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Records the rebuilds switched since the last poll; returns how many. */
  async poll(): Promise<number> {
    try {
      const { rows } = await this.pool.query<{ name: string; seconds: number; switched_at: Date }>(
        `SELECT name, extract(epoch FROM switched_at - started_at)::float8 AS seconds, switched_at
           FROM projection_generation WHERE switched_at > $1 ORDER BY switched_at`,
        [this.since],
      );
      for (const row of rows) {
        rebuildDuration.record(row.seconds, { projection: row.name });
        this.since = row.switched_at;
      }
      return rows.length;
    } catch (error) {
      this.logger.warn(`could not read rebuild times: ${(error as Error).message}`);
      return 0;
    }
  }
}
