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
 * sees the families exactly as Prometheus would.
 */
export function parsePrometheusText(text: string): MetricFamily[] {
  return (parse as (text: string) => MetricFamily[])(text);
}
