import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { ServiceConfig } from '@order-saga/config';
import { purgeInBatches } from '@order-saga/outbox';
import { CONFIG, PRISMA, type PrismaLike } from './tokens.js';

/** Rows of one table that expire: deleted by {@link RetentionPurgeService} in bounded statements. */
export interface PurgeJob {
  /** Names the job in logs. */
  name: string;
  /** Table name (trusted). */
  table: string;
  /** A column identifying a row; `ctid` works for any table. */
  key: string;
  /** SQL condition selecting the expired rows (trusted, no parameters). */
  where: string;
}

/**
 * Deletes expired rows on a timer (`PURGE_INTERVAL_MS`), in statements of at most
 * `PURGE_BATCH_SIZE` rows, whatever the traffic: the inbox after `INBOX_RETENTION_HOURS`, and any
 * table a service registers (e.g. the order service's idempotency keys). Published outbox rows are
 * purged by the relay's leader. Every replica runs it; concurrent purges skip each other's rows.
 */
@Injectable()
export class RetentionPurgeService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('RetentionPurge');
  private readonly jobs: PurgeJob[];
  private readonly stopped = new AbortController();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    @Inject(CONFIG) private readonly config: ServiceConfig,
    @Inject(PRISMA) private readonly prisma: PrismaLike,
  ) {
    this.jobs = [
      {
        name: 'inbox',
        table: 'inbox',
        // No index on processed_at yet: each statement scans until it has a batch, which finds
        // the oldest rows first in an append-mostly table.
        key: 'ctid',
        where: `processed_at < now() - make_interval(hours => ${config.inboxRetentionHours})`,
      },
    ];
  }

  /** Adds a table to purge; call it from a provider's constructor or `onModuleInit`. */
  register(job: PurgeJob): void {
    this.jobs.push(job);
  }

  onApplicationBootstrap(): void {
    const tick = () => {
      this.running = this.purgeAll().then(() => {
        if (!this.stopped.signal.aborted) this.timer = setTimeout(tick, this.config.purgeIntervalMs).unref();
      });
    };
    tick();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped.abort();
    clearTimeout(this.timer);
    await this.running;
  }

  /**
   * Runs every job once.
   * @returns rows deleted per job name.
   */
  async purgeAll(): Promise<Record<string, number>> {
    const deleted: Record<string, number> = {};
    for (const job of this.jobs) {
      try {
        deleted[job.name] = await purgeInBatches(
          async (sql, params) =>
            Number(
              (
                await this.prisma.$queryRawUnsafe<{ n: bigint }[]>(
                  `WITH deleted AS (${sql} RETURNING 1) SELECT count(*) AS n FROM deleted`,
                  ...params,
                )
              )[0]?.n ?? 0,
            ),
          { ...job, batchSize: this.config.purgeBatchSize, signal: this.stopped.signal },
        );
        if (deleted[job.name])
          this.logger.log({ msg: 'purged expired rows', job: job.name, deleted: deleted[job.name] });
      } catch (error) {
        this.logger.warn({ msg: 'purge failed; retrying at the next interval', job: job.name, err: error });
      }
    }
    return deleted;
  }
}
