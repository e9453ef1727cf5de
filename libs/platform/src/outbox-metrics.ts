import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { BatchObservableCallback, ObservableGauge } from '@opentelemetry/api';
import { meter } from '@order-saga/telemetry';
import { OutboxRelayService } from './outbox-relay.service.js';
import { PRISMA, type PrismaLike } from './tokens.js';

/**
 * The outbox as an operator watches it: rows waiting, the age of the oldest (the figure to alert
 * on: depth alone is normal under load), and whether this replica's relay leads. Read from the
 * database at scrape time, one indexed query, so every replica reports the same backlog.
 */
@Injectable()
export class OutboxMetrics implements OnModuleInit, OnModuleDestroy {
  private readonly meter = meter('order-saga-outbox');
  private gauges: ObservableGauge[] = [];
  private callback?: BatchObservableCallback;

  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaLike,
    private readonly relay: OutboxRelayService,
  ) {}

  onModuleInit(): void {
    const unpublished = this.meter.createObservableGauge('outbox_unpublished_rows', {
      description: 'Outbox rows committed and not yet published',
    });
    const oldest = this.meter.createObservableGauge('outbox_oldest_unpublished_age_seconds', {
      description: 'Age of the oldest unpublished outbox row (0 when none)',
      unit: 's',
    });
    const parked = this.meter.createObservableGauge('outbox_parked_rows', {
      description: 'Outbox rows parked because the broker can never accept them (pnpm outbox parked)',
    });
    const leader = this.meter.createObservableGauge('outbox_relay_leader', {
      description: "1 when this replica's relay holds the outbox leadership, else 0",
    });
    this.gauges = [unpublished, oldest, parked, leader];
    this.callback = async (result) => {
      result.observe(leader, this.relay.isLeader ? 1 : 0);
      // Parked rows are counted apart: they wait for a person, not for the relay, and would
      // otherwise hold the oldest-age figure up for as long as they stay parked.
      const rows = await this.prisma.$queryRawUnsafe<{ n: bigint; parked: bigint; age: number | null }[]>(
        `SELECT count(*) FILTER (WHERE parked_at IS NULL) AS n,
                count(*) FILTER (WHERE parked_at IS NOT NULL) AS parked,
                extract(epoch FROM now() - min(occurred_at) FILTER (WHERE parked_at IS NULL))::float8 AS age
           FROM outbox WHERE published_at IS NULL`,
      );
      result.observe(unpublished, Number(rows[0]?.n ?? 0));
      result.observe(parked, Number(rows[0]?.parked ?? 0));
      result.observe(oldest, Math.max(0, rows[0]?.age ?? 0));
    };
    this.meter.addBatchObservableCallback(this.callback, this.gauges);
  }

  onModuleDestroy(): void {
    if (this.callback) this.meter.removeBatchObservableCallback(this.callback, this.gauges);
  }
}
