import parse from 'parse-prometheus-text-format';

/** One sample of a family: its labels and value, as the exposition wrote them. */
export interface Sample {
  labels?: Record<string, string>;
  value?: string;
  /** Histograms: upper bound → cumulative count. */
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

/** A metric family of the Prometheus text exposition (`# HELP`, `# TYPE` and its samples). */
export interface MetricFamily {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: Sample[];
}

/**
 * Parses a `/metrics` answer with a real Prometheus text-format parser (not a regex), so a test
 * sees the families exactly as Prometheus would. Limitation of the parser: a histogram's samples
 * are folded into one, so read the family, not the
 * series, of a histogram with labels.
 */
export function parsePrometheusText(text: string): MetricFamily[] {
  return (parse as (text: string) => MetricFamily[])(bucketsFirst(text));
}

/**
 * The parser folds a histogram's `_count` and `_sum` into the series its `_bucket` lines opened,
 * as Prometheus' own clients write them; OpenTelemetry's exporter writes `_count` and `_sum` first,
 * and the parser then drops them (or throws, for a histogram without labels). Within each family
 * the bucket lines are moved ahead of the rest; nothing else changes.
 */
function bucketsFirst(text: string): string {
  const out: string[] = [];
  let buckets: string[] = [];
  let rest: string[] = [];
  const flush = () => {
    out.push(...buckets, ...rest);
    buckets = [];
    rest = [];
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) {
      flush();
      out.push(line);
    } else if (/^[a-zA-Z_:][a-zA-Z0-9_:]*_bucket[{ ]/.test(line)) buckets.push(line);
    else rest.push(line);
  }
  flush();
  return out.join('\n');
}
