import { metrics, type Meter } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';

/**
 * A meter for counters and histograms such as `saga_compensation_failed_total`. Before the SDK
 * starts (or without `METRICS_PORT`) it is a no-op meter, so code can always record.
 */
export function meter(name: string): Meter {
  return metrics.getMeter(name);
}

/**
 * The SDK's metric readers: a Prometheus endpoint (`/metrics`) on `METRICS_PORT` when set, none
 * otherwise. Never the SDK's default OTLP push, which would retry against a collector that is
 * not there.
 */
export function metricReadersFromEnv(env: NodeJS.ProcessEnv): PrometheusExporter[] {
  const port = env['METRICS_PORT'];
  if (!port) return [];
  if (!/^\d+$/.test(port) || Number(port) > 65535)
    throw new Error(`METRICS_PORT: invalid (got "${port}"); expected a port, e.g. 9464`);
  return [
    new PrometheusExporter({ port: Number(port) }, (error) => {
      // A taken port must not kill the service, but nobody would notice missing metrics either.
      if (error) console.error(`metrics: cannot serve /metrics on port ${port}:`, error);
    }),
  ];
}
