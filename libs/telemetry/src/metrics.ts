import type { IncomingMessage, ServerResponse } from 'node:http';
import { metrics, type Meter } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';

/**
 * A meter for counters, gauges and histograms such as `saga_compensation_failed_total`. Before
 * the SDK starts it is a no-op meter, so code can always record.
 */
export function meter(name: string): Meter {
  return metrics.getMeter(name);
}

/**
 * The SDK's Prometheus reader. It never runs a server of its own unless `METRICS_PORT` asks for
 * one: every service serves `/metrics` on its own HTTP port through {@link serveMetrics}, so
 * the figures are always where the API is. Never the SDK's default OTLP push, which would retry
 * against a collector that is not there.
 */
export function prometheusReaderFromEnv(env: NodeJS.ProcessEnv): PrometheusExporter {
  const port = env['METRICS_PORT'];
  if (port !== undefined && port !== '' && (!/^\d+$/.test(port) || Number(port) > 65535))
    throw new Error(`METRICS_PORT: invalid (got "${port}"); expected a port, e.g. 9464`);
  return new PrometheusExporter(
    // One `service` per scrape target is set by the scrape config; the target_info series stays
    // for the resource attributes.
    { port: port ? Number(port) : undefined, preventServerStart: !port, withoutScopeInfo: true },
    (error) => {
      // A taken port must not kill the service, but nobody would notice missing metrics either.
      if (error) console.error(`metrics: cannot serve /metrics on port ${port}:`, error);
    },
  );
}

// On globalThis for the same reason as the SDK itself (sdk.ts): the register hook and the app may
// load two copies of this module.
const READER = Symbol.for('@order-saga/telemetry/prometheus');
const holder = globalThis as { [READER]?: PrometheusExporter };

/** Remembers the reader {@link serveMetrics} answers from (called by `startTelemetry`). */
export function usePrometheusReader(reader: PrometheusExporter): void {
  holder[READER] = reader;
}

/**
 * Writes the Prometheus text exposition of every metric of this process to `response`. Answers
 * 503 when telemetry was not started (the process did not run with the register hook).
 */
export function serveMetrics(request: IncomingMessage, response: ServerResponse): void {
  const reader = holder[READER];
  if (!reader) {
    response.statusCode = 503;
    response.setHeader('content-type', 'text/plain; charset=utf-8');
    response.end('# metrics are off: start the process with --import @order-saga/telemetry/register\n');
    return;
  }
  reader.getMetricsRequestHandler(request, response);
}
