import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { BatchObservableCallback, ObservableGauge } from '@opentelemetry/api';
import { meter } from '@order-saga/telemetry';
import { PRISMA, type PrismaLike } from './tokens.js';

/**
 * With `OUTBOX_RELAY=debezium` the outbox backlog is no longer rows in a table but WAL the
 * connector has not confirmed: bytes between the server's current WAL position and the slot's
 * `confirmed_flush_lsn`. It also measures the WAL the server must keep while Kafka Connect is
 * down. Read at scrape time from `pg_replication_slots` (readable by the runtime role), for the
 * slots of this service's database only.
 */
@Injectable()
export class DebeziumSlotMetrics implements OnModuleInit, OnModuleDestroy {
  private readonly meter = meter('order-saga-outbox');
  private gauge?: ObservableGauge;
  private callback?: BatchObservableCallback;

  constructor(@Inject(PRISMA) private readonly prisma: PrismaLike) {}

  onModuleInit(): void {
    const gauge = this.meter.createObservableGauge('debezium_slot_lag_bytes', {
      description:
        "WAL bytes written since the Debezium connector's last confirmed position (its replication slot)",
    });
    this.gauge = gauge;
    this.callback = async (result) => {
      const slots = await this.prisma.$queryRawUnsafe<{ slot: string; lag: number | null }[]>(
        `SELECT slot_name AS slot,
                pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::float8 AS lag
           FROM pg_replication_slots
          WHERE database = current_database() AND slot_type = 'logical'`,
      );
      for (const { slot, lag } of slots) result.observe(gauge, Math.max(0, lag ?? 0), { slot });
    };
    this.meter.addBatchObservableCallback(this.callback, [gauge]);
  }

  onModuleDestroy(): void {
    if (this.callback && this.gauge) this.meter.removeBatchObservableCallback(this.callback, [this.gauge]);
  }
}
