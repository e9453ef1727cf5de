import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../infra/tokens.js';
import type { SeriesRow } from '../stats/saga-series.js';
import type { OrderSummary } from './order-summary.projection.js';

/** Filters of the order list; all optional, combined with AND. */
export interface OrderFilter {
  status?: string;
  customerId?: string;
  sku?: string;
  placedFrom?: Date;
  placedTo?: Date;
}

/** A position in the list: the last order of the previous page. */
export interface OrderCursor {
  placedAt: string;
  orderId: string;
}

export interface StatsRow {
  byStatus: { status: string; orders: number }[];
  completed: number;
  durations: { status: string; orders: number; p50: number; p95: number; p99: number }[];
  compensations: number;
}

/**
 * SQL over the `order_summary` view, which always shows the live generation of the projection
 * (a rebuild switches it atomically). Lists are keyset-paginated on (placed_at, key) newest first:
 * an order inserted while a client pages lands before its cursor or after it, never shifting a page.
 */
@Injectable()
export class OrderSummaryQueries {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async list(filter: OrderFilter, limit: number, after?: OrderCursor): Promise<OrderSummary[]> {
    const where = ['placed_at IS NOT NULL'];
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (filter.status) where.push(`status = ${param(filter.status)}`);
    if (filter.customerId) where.push(`customer_id = ${param(filter.customerId)}`);
    if (filter.sku) where.push(`skus @> ARRAY[${param(filter.sku)}::text]`);
    if (filter.placedFrom) where.push(`placed_at >= ${param(filter.placedFrom)}`);
    if (filter.placedTo) where.push(`placed_at < ${param(filter.placedTo)}`);
    if (after) where.push(`(placed_at, key) < (${param(after.placedAt)}::timestamptz, ${param(after.orderId)})`);
    const { rows } = await this.pool.query<{ doc: OrderSummary }>(
      `SELECT doc FROM order_summary WHERE ${where.join(' AND ')} ORDER BY placed_at DESC, key DESC LIMIT ${param(limit)}`,
      params,
    );
    return rows.map((r) => r.doc);
  }

  async get(orderId: string): Promise<OrderSummary | null> {
    const { rows } = await this.pool.query<{ doc: OrderSummary }>(
      'SELECT doc FROM order_summary WHERE key = $1 AND placed_at IS NOT NULL',
      [orderId],
    );
    return rows[0]?.doc ?? null;
  }

  async stats(since: Date): Promise<StatsRow> {
    const [byStatus, completed, durations, compensations] = await Promise.all([
      this.pool.query<{ status: string; orders: number }>(
        'SELECT status, count(*)::int AS orders FROM order_summary WHERE placed_at >= $1 GROUP BY status ORDER BY status',
        [since],
      ),
      this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM order_summary WHERE finished_at >= $1', [since]),
      this.pool.query<{ status: string; orders: number; p50: number; p95: number; p99: number }>(
        `SELECT status, count(*)::int AS orders,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) AS p99
           FROM order_summary WHERE finished_at >= $1 AND duration_ms IS NOT NULL GROUP BY status ORDER BY status`,
        [since],
      ),
      this.pool.query<{ n: number }>(
        'SELECT coalesce(sum(compensations), 0)::int AS n FROM order_summary WHERE finished_at >= $1',
        [since],
      ),
    ]);
    return {
      byStatus: byStatus.rows,
      completed: completed.rows[0]?.n ?? 0,
      durations: durations.rows,
      compensations: compensations.rows[0]?.n ?? 0,
    };
  }

  /**
   * Sagas finished per `stepMs` bucket since `from` (bucket 0 starts at `from`), with the p50 and
   * p99 of their place → terminal duration; buckets without a finished saga are left out.
   */
  async series(from: Date, stepMs: number): Promise<SeriesRow[]> {
    const { rows } = await this.pool.query<SeriesRow>(
      `SELECT floor(extract(epoch FROM finished_at - $1::timestamptz) * 1000 / $2)::int AS bucket,
              count(*)::int AS completed,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) AS p99
         FROM order_summary WHERE finished_at >= $1 GROUP BY 1 ORDER BY 1`,
      [from, stepMs],
    );
    return rows;
  }
}
