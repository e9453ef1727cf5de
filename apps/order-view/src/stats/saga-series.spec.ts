import { describe, expect, it } from 'vitest';
import { fillSeries, seriesWindow } from './saga-series.js';

const minute = 60_000;

describe('the saga series', () => {
  it('ends_with_the_bucket_holding_now_and_aligns_buckets_to_the_step', () => {
    const now = Date.parse('2026-12-02T07:04:31Z');
    const { from, count } = seriesWindow(now, 30 * minute, minute);
    expect(count).toBe(30);
    expect(new Date(from).toISOString()).toBe('2026-12-02T06:35:00.000Z');
    // The last bucket, 07:04–07:05, holds now.
    expect(from + (count - 1) * minute).toBeLessThanOrEqual(now);
    expect(from + count * minute).toBeGreaterThan(now);
    // Called again within the same minute: the same buckets.
    expect(seriesWindow(now + 20_000, 30 * minute, minute)).toEqual({ from, count });
  });

  it('fills_minutes_without_a_finished_saga_with_zero_and_no_duration', () => {
    const from = Date.parse('2026-12-02T07:00:00Z');
    const buckets = fillSeries([{ bucket: 1, completed: 4, p50: 120, p99: 900 }], from, minute, 3);
    expect(buckets).toEqual([
      { start: '2026-12-02T07:00:00.000Z', completed: 0, p50: null, p99: null },
      { start: '2026-12-02T07:01:00.000Z', completed: 4, p50: 120, p99: 900 },
      { start: '2026-12-02T07:02:00.000Z', completed: 0, p50: null, p99: null },
    ]);
  });
});
