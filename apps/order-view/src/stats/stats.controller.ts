import { Controller, Get, Inject, type OnModuleDestroy, Query, UseInterceptors } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { deadLetterTopic, topicKeys, topicName } from '@order-saga/contracts';
import { ApiProblemResponses, invalidRequest } from '@order-saga/http';
import type { Admin, Kafka } from 'kafkajs';
import { z } from 'zod';
import { CONFIG, type OrderViewConfig } from '../config.js';
import { FreshnessInterceptor, Freshness } from '../http/freshness.interceptor.js';
import { KAFKA } from '../infra/tokens.js';
import { OrderSummaryQueries } from '../order-summary/order-summary.queries.js';
import { fillSeries, seriesWindow } from './saga-series.js';

const units = { s: 1_000, m: 60_000, h: 3_600_000 } as const;
const MAX_WINDOW_MS = 24 * units.h;

/** `15m`, `30s`, `2h`: at most a day. */
export function parseWindow(text: string, field = 'window'): number {
  const match = /^([1-9]\d*)([smh])$/.exec(text);
  const ms = match ? Number(match[1]) * units[match[2] as keyof typeof units] : NaN;
  if (!Number.isFinite(ms) || ms > MAX_WINDOW_MS) {
    throw invalidRequest([{ field, reason: 'expected a duration such as 30s, 15m or 2h, at most 24h' }]);
  }
  return ms;
}

const Percentiles = z.object({ orders: z.int(), p50: z.number(), p95: z.number(), p99: z.number() });

export const Stats = z.object({
  window: z.string(),
  since: z.iso.datetime(),
  ordersByStatus: z.record(z.string(), z.int()).meta({ description: 'orders placed in the window, by current status' }),
  completedPerMinute: z.number().meta({ description: 'sagas that reached a terminal status in the window, per minute' }),
  placeToTerminalMs: z.record(z.string(), Percentiles).meta({ description: 'by outcome, sagas finished in the window' }),
  compensations: z.int().meta({ description: 'compensating messages of the orders finished in the window' }),
  deadLetters: z.int().meta({ description: 'messages dead-lettered in the window (all saga topics)' }),
  freshness: Freshness,
});
type Stats = Omit<z.infer<typeof Stats>, 'freshness'>;

const MAX_BUCKETS = 240;

export const StatsSeries = z.object({
  window: z.string(),
  step: z.string(),
  buckets: z
    .array(
      z.object({
        start: z.iso.datetime(),
        completed: z.int().meta({ description: 'sagas that reached a terminal status in this bucket' }),
        p50: z.number().nullable().meta({ description: 'place → terminal duration (ms) of those sagas; null when none finished' }),
        p99: z.number().nullable(),
      }),
    )
    .meta({ description: 'oldest first; the last bucket holds the current time' }),
  freshness: Freshness,
});
type StatsSeries = Omit<z.infer<typeof StatsSeries>, 'freshness'>;

@ApiTags('stats')
@Controller('stats')
@UseInterceptors(FreshnessInterceptor)
export class StatsController implements OnModuleDestroy {
  /**
   * One admin connection for every request (the console asks every second while a page is open),
   * opened on first use and dropped after a failure so that the next request reconnects.
   */
  private admin?: Promise<Admin>;

  constructor(
    private readonly queries: OrderSummaryQueries,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(CONFIG) private readonly config: OrderViewConfig,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Saga figures over a recent window' })
  @ApiQuery({ name: 'window', required: false, description: 'e.g. 30s, 15m, 2h (default 15m, at most 24h)' })
  @ApiOkResponse({ description: 'The figures', standardSchema: Stats })
  @ApiProblemResponses({ 400: 'The window is invalid', 503: 'The read model is still back-filling' })
  async stats(@Query('window') window = '15m'): Promise<Stats> {
    const ms = parseWindow(window);
    const since = new Date(Date.now() - ms);
    const [row, deadLetters] = await Promise.all([this.queries.stats(since), this.deadLettersSince(since)]);
    return {
      window,
      since: since.toISOString(),
      ordersByStatus: Object.fromEntries(row.byStatus.map((r) => [r.status, r.orders])),
      completedPerMinute: Math.round((row.completed / (ms / units.m)) * 100) / 100,
      placeToTerminalMs: Object.fromEntries(
        row.durations.map(({ status, ...d }) => [status, { orders: d.orders, p50: d.p50, p95: d.p95, p99: d.p99 }]),
      ),
      compensations: row.compensations,
      deadLetters,
    };
  }

  @Get('series')
  @ApiOperation({ summary: 'Sagas finished and their p50/p99 duration per step over a recent window (sparklines)' })
  @ApiQuery({ name: 'window', required: false, description: 'e.g. 30m (default), at most 24h' })
  @ApiQuery({ name: 'step', required: false, description: `bucket width, e.g. 1m (default); at most ${MAX_BUCKETS} buckets` })
  @ApiOkResponse({ description: 'The series', standardSchema: StatsSeries })
  @ApiProblemResponses({ 400: 'The window or step is invalid', 503: 'The read model is still back-filling' })
  async series(@Query('window') window = '30m', @Query('step') step = '1m'): Promise<StatsSeries> {
    const windowMs = parseWindow(window);
    const stepMs = parseWindow(step, 'step');
    if (stepMs > windowMs || windowMs / stepMs > MAX_BUCKETS) {
      throw invalidRequest([{ field: 'step', reason: `expected at most the window and at most ${MAX_BUCKETS} buckets in it` }]);
    }
    const { from, count } = seriesWindow(Date.now(), windowMs, stepMs);
    const rows = await this.queries.series(new Date(from), stepMs);
    return { window, step, buckets: fillSeries(rows, from, stepMs, count) };
  }

  // Dead letters are counted from the dead-letter topics' offsets (first offset at the window's
  // start to the end), without consuming them.
  private async deadLettersSince(since: Date): Promise<number> {
    const admin = await this.connectedAdmin();
    try {
      const existing = new Set(await admin.listTopics());
      const topics = topicKeys
        .map((key) => deadLetterTopic(topicName(key, this.config.kafkaTopicPrefix)))
        .filter((topic) => existing.has(topic));
      const counts = await Promise.all(
        topics.map(async (topic) => {
          const [from, to] = await Promise.all([
            admin.fetchTopicOffsetsByTimestamp(topic, since.getTime()),
            admin.fetchTopicOffsets(topic),
          ]);
          let total = 0;
          for (const end of to) {
            const start = Number(from.find((p) => p.partition === end.partition)?.offset ?? end.high);
            total += Math.max(0, Number(end.high) - (start < 0 ? Number(end.high) : start));
          }
          return total;
        }),
      );
      return counts.reduce((a, b) => a + b, 0);
    } catch (error) {
      await this.dropAdmin();
      throw error;
    }
  }

  private connectedAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      this.admin = admin.connect().then(() => admin);
      this.admin.catch(() => (this.admin = undefined));
    }
    return this.admin;
  }

  private async dropAdmin(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.then((a) => a.disconnect()).catch(() => undefined);
  }

  async onModuleDestroy(): Promise<void> {
    await this.dropAdmin();
  }
}
