import {
  Inject,
  Injectable,
  Logger,
  type CanActivate,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { CONFIG, HealthRegistry, PG_POOL, type ServiceConfig } from '@order-saga/platform';
import { ProblemException, problemType } from '@order-saga/http';
import type pg from 'pg';

/** What the order service has accepted and not yet finished with. */
export interface Load {
  /**
   * Sagas still waiting for a reply: every one has a deadline, including a COMPENSATION_FAILED
   * saga whose compensations are still pending (it keeps re-sending them), so orders are not
   * admitted into an outage just because earlier sagas raised the alarm.
   */
  sagasInFlight: number;
  /** Outbox rows the relay has not published yet. */
  unpublishedOutbox: number;
}

export interface LoadBounds {
  maxSagasInFlight: number;
  maxUnpublishedOutbox: number;
}

/** Why new orders should be refused now, or `null` while the load is within its bounds. */
export function overload(load: Load, bounds: LoadBounds): string | null {
  if (load.sagasInFlight > bounds.maxSagasInFlight) {
    return `${load.sagasInFlight} sagas in flight, more than the bound of ${bounds.maxSagasInFlight}`;
  }
  if (load.unpublishedOutbox > bounds.maxUnpublishedOutbox) {
    return `${load.unpublishedOutbox} unpublished outbox rows, more than the bound of ${bounds.maxUnpublishedOutbox}`;
  }
  return null;
}

/**
 * Watches the order service's backlog so `POST /orders` can refuse work it cannot finish soon.
 * Accepting more orders while the relay or the participants lag only lengthens every saga and
 * pushes more of them past their deadlines; a 429 tells clients to come back instead.
 *
 * The counts are refreshed in the background every {@link Backpressure.REFRESH_MS}, never per
 * request, so deciding to shed costs no database work at all.
 */
@Injectable()
export class Backpressure implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  static readonly REFRESH_MS = 200;

  private readonly logger = new Logger('Backpressure');
  private readonly bounds: LoadBounds;
  private load: Load | null = null;
  private refreshedAt: Date | null = null;
  private reason: string | null = null;
  private refreshFailing = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    // Five counts a second: on the pool directly, not through Prisma's query engine.
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly health: HealthRegistry,
    @Inject(CONFIG) config: ServiceConfig,
  ) {
    this.bounds = {
      maxSagasInFlight: config.orderMaxSagasInFlight,
      maxUnpublishedOutbox: config.orderMaxUnpublishedOutbox,
    };
  }

  /** Why orders are being refused, or `null` when they are accepted. */
  get sheddingReason(): string | null {
    return this.reason;
  }

  onModuleInit(): void {
    this.health.register('backpressure', () => ({
      shedding: this.reason !== null,
      reason: this.reason,
      sagasInFlight: { current: this.load?.sagasInFlight ?? null, max: this.bounds.maxSagasInFlight },
      unpublishedOutbox: {
        current: this.load?.unpublishedOutbox ?? null,
        max: this.bounds.maxUnpublishedOutbox,
      },
      refreshedAt: this.refreshedAt?.toISOString() ?? null,
    }));
  }

  async onApplicationBootstrap(): Promise<void> {
    // Counted once before the first request, so an overloaded service does not accept a burst
    // while the first refresh is pending.
    await this.refresh();
    this.schedule();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    // A chain of timeouts, not an interval: a slow count delays the next one instead of piling up.
    this.timer = setTimeout(
      () => void this.refresh().finally(() => this.schedule()),
      Backpressure.REFRESH_MS,
    );
    this.timer.unref();
  }

  private async refresh(): Promise<void> {
    let load: Load;
    try {
      // Both counts read partial indexes (saga_due_idx, outbox_unpublished_idx): their cost grows
      // with the backlog, not with the history.
      const {
        rows: [row],
      } = await this.pool.query<{ sagas: string; outbox: string }>({
        name: 'order_backpressure',
        text: `SELECT (SELECT count(*) FROM saga WHERE deadline_at IS NOT NULL) AS sagas,
                      (SELECT count(*) FROM outbox WHERE published_at IS NULL) AS outbox`,
      });
      load = { sagasInFlight: Number(row?.sagas ?? 0), unpublishedOutbox: Number(row?.outbox ?? 0) };
    } catch (error) {
      // Keep the last known figures: shedding protects the service, and an unreachable database
      // already fails the requests on its own. One warning per outage, not five a second.
      if (!this.refreshFailing && !this.stopped)
        this.logger.warn({ msg: 'could not count the backlog', err: error });
      this.refreshFailing = true;
      return;
    }
    this.refreshFailing = false;
    this.load = load;
    this.refreshedAt = new Date();
    const reason = overload(load, this.bounds);
    if (reason !== null && this.reason === null)
      this.logger.warn({ msg: 'shedding POST /orders', reason, ...load });
    if (reason === null && this.reason !== null)
      this.logger.log({ msg: 'stopped shedding POST /orders', ...load });
    this.reason = reason;
  }
}

/** Answers 429 with `Retry-After` while {@link Backpressure} sheds, before any database work. */
@Injectable()
export class ShedLoadGuard implements CanActivate {
  constructor(private readonly backpressure: Backpressure) {}

  canActivate(): boolean {
    const reason = this.backpressure.sheddingReason;
    if (reason === null) return true;
    throw new ProblemException(
      {
        type: problemType('overloaded'),
        title: 'Too many orders in progress',
        status: 429,
        detail: `New orders are refused for now: ${reason}. Retry the same request later.`,
      },
      { 'Retry-After': '1' },
    );
  }
}
