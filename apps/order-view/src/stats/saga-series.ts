/** One bucket of the saga series as SQL returns it: only buckets in which sagas finished. */
export interface SeriesRow {
  bucket: number;
  completed: number;
  p50: number | null;
  p99: number | null;
}

/** One bucket as the API answers it: every bucket of the window, empty ones included. */
export interface SeriesBucket {
  start: string;
  completed: number;
  p50: number | null;
  p99: number | null;
}

/**
 * The buckets of a series that ends with the bucket holding `now`. Buckets are aligned to
 * multiples of `stepMs` since the epoch, so two calls within one step name the same buckets and
 * a chart does not shift between refreshes.
 */
export function seriesWindow(now: number, windowMs: number, stepMs: number): { from: number; count: number } {
  const count = Math.ceil(windowMs / stepMs);
  const end = Math.floor(now / stepMs) * stepMs + stepMs;
  return { from: end - count * stepMs, count };
}

/** Every bucket of the window, oldest first: a minute without a finished saga is 0, without a duration null. */
export function fillSeries(rows: readonly SeriesRow[], from: number, stepMs: number, count: number): SeriesBucket[] {
  const byBucket = new Map(rows.map((r) => [r.bucket, r]));
  return Array.from({ length: count }, (_, i) => {
    const row = byBucket.get(i);
    return {
      start: new Date(from + i * stepMs).toISOString(),
      completed: row?.completed ?? 0,
      p50: row?.p50 ?? null,
      p99: row?.p99 ?? null,
    };
  });
}
