import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { BatchObservableCallback, ObservableGauge } from '@opentelemetry/api';
import { meter } from '@order-saga/telemetry';
import { PrismaService } from '../infra/prisma.service.js';
import type { SagaPolicy } from './order.saga.js';
import { SAGA_POLICY } from './saga-policy.js';

// Not in flight: these wait for nothing. COMPENSATION_FAILED still does (a person, or a late
// acknowledgement), so it stays in the figure the SagaCompensationFailed alert reads.
const SETTLED = `('CONFIRMED', 'REJECTED', 'CANCELLED')`;

/**
 * Sagas as an operator watches them, read from the saga table at scrape time (one grouped query),
 * so every replica reports the same figures and a restart loses nothing:
 * `sagas_in_flight{status}` and `sagas_overdue`, the sagas whose deadline passed more than one
 * step timeout ago: the deadline timer should have acted on them by then.
 */
@Injectable()
export class SagaMetrics implements OnModuleInit, OnModuleDestroy {
  private readonly meter = meter('order-saga');
  private gauges: ObservableGauge[] = [];
  private callback?: BatchObservableCallback;

  constructor(
    private readonly prisma: PrismaService,
    @Inject(SAGA_POLICY) private readonly policy: SagaPolicy,
  ) {}

  onModuleInit(): void {
    const inFlight = this.meter.createObservableGauge('sagas_in_flight', {
      description: 'Sagas not settled yet, by status (COMPENSATION_FAILED included: it waits for a person)',
    });
    const overdue = this.meter.createObservableGauge('sagas_overdue', {
      description:
        'Sagas past their deadline by more than one step timeout (the deadline timer is not acting)',
    });
    this.gauges = [inFlight, overdue];
    this.callback = async (result) => {
      const rows = await this.prisma.$queryRawUnsafe<{ status: string; n: bigint; overdue: bigint }[]>(
        `SELECT status, count(*) AS n,
                count(*) FILTER (WHERE deadline_at < now() - $1::double precision * interval '1 millisecond') AS overdue
           FROM saga WHERE status NOT IN ${SETTLED} GROUP BY status`,
        this.policy.stepTimeoutMs,
      );
      let late = 0;
      for (const row of rows) {
        result.observe(inFlight, Number(row.n), { status: row.status });
        late += Number(row.overdue);
      }
      // Zero is a figure too: without it the series vanishes and an alert cannot resolve cleanly.
      if (!rows.some((r) => r.status === 'COMPENSATION_FAILED'))
        result.observe(inFlight, 0, { status: 'COMPENSATION_FAILED' });
      result.observe(overdue, late);
    };
    this.meter.addBatchObservableCallback(this.callback, this.gauges);
  }

  onModuleDestroy(): void {
    if (this.callback) this.meter.removeBatchObservableCallback(this.callback, this.gauges);
  }
}
