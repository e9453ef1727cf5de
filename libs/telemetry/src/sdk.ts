import type { IncomingMessage } from 'node:http';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK, type NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import { prometheusReaderFromEnv, usePrometheusReader } from './metrics.js';

/** A span exporter, as the SDK's `traceExporter` option takes it. */
export type SpanExporter = NodeSDKConfiguration['traceExporter'];
/** A span processor, as the SDK's `spanProcessors` option takes it. */
export type SpanProcessor = NonNullable<NodeSDKConfiguration['spanProcessors']>[number];

/** Options of {@link startTelemetry}; everything else comes from the environment. */
export interface TelemetryOptions {
  env?: NodeJS.ProcessEnv;
  /** Replaces the exporter chosen from the environment; tests pass a span collector here. */
  spanProcessors?: SpanProcessor[];
}

/**
 * The OTLP/HTTP trace exporter `OTEL_EXPORTER_OTLP_ENDPOINT` asks for, or `undefined` when it is
 * unset. `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL` picks protobuf (the default) or JSON; the
 * exporter reads the endpoint and headers from the environment itself.
 */
export function traceExporterFromEnv(env: NodeJS.ProcessEnv = process.env): SpanExporter | undefined {
  if (!env['OTEL_EXPORTER_OTLP_ENDPOINT']) return undefined;
  const protocol =
    env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] || env['OTEL_EXPORTER_OTLP_PROTOCOL'] || 'http/protobuf';
  switch (protocol) {
    case 'http/protobuf':
      return new OTLPProtoTraceExporter();
    case 'http/json':
      return new OTLPJsonTraceExporter();
    default:
      throw new Error(
        `OTEL_EXPORTER_OTLP_PROTOCOL: unsupported "${protocol}"; expected http/protobuf or http/json`,
      );
  }
}

// Spans still get real ids without an exporter: trace ids in the logs and traceparent on the
// outgoing messages are worth having even where nothing collects spans.
const recordOnly: SpanProcessor = {
  onStart: () => undefined,
  onEnd: () => undefined,
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
};

// Probes and scrapes arrive every few seconds and would drown the traces (and the HTTP figures)
// that matter: /health, /health/live, /health/ready and /metrics.
function isProbe(request: IncomingMessage): boolean {
  const path = (request.url ?? '').split('?')[0] ?? '';
  return (
    request.method === 'GET' && (path === '/metrics' || path === '/health' || path.startsWith('/health/'))
  );
}

// On globalThis, not in a module variable: the register hook (dist) and a test or app loaded
// through the `source` condition would otherwise each hold their own SDK.
const STATE = Symbol.for('@order-saga/telemetry');
interface State {
  sdk: NodeSDK;
  shutdown?: Promise<void>;
}
const holder = globalThis as { [STATE]?: State };

/**
 * Starts the OpenTelemetry SDK once per process: service name from `OTEL_SERVICE_NAME` or
 * `SERVICE_NAME`, W3C trace-context propagation, http and pg instrumentations, a batch span
 * processor to the OTLP exporter when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, a Prometheus reader
 * served on the service's HTTP port (`/metrics`, see `serveMetrics`). Later calls are no-ops. Applications do not call this: they start with
 * `node --import @order-saga/telemetry/register`.
 */
export function startTelemetry(options: TelemetryOptions = {}): void {
  if (holder[STATE]) return;
  const env = options.env ?? process.env;
  const exporter = traceExporterFromEnv(env);
  const serviceName = env['OTEL_SERVICE_NAME'] || env['SERVICE_NAME'];
  const prometheus = prometheusReaderFromEnv(env);

  const config: Partial<NodeSDKConfiguration> = {
    textMapPropagator: new W3CTraceContextPropagator(),
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: isProbe }),
      // Statements inside a trace only, and no span per pool checkout: a handler's transaction is a
      // handful of statements, each worth seeing in its order's trace; the relay's polls and the
      // timers' sweeps would each start a trace of their own, thousands an hour, none about an order.
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
    ],
    metricReaders: [prometheus],
    // The http instrumentation's `http.server.request.duration` is in seconds; Prometheus'
    // convention puts the unit in the name, which the exporter does not do by itself.
    views: [{ instrumentName: 'http.server.request.duration', name: 'http_server_request_duration_seconds' }],
    // Without this the SDK sets up an OTLP log exporter by default; our logs go to stdout.
    logRecordProcessors: [],
  };
  if (serviceName) config.serviceName = serviceName;
  if (options.spanProcessors) config.spanProcessors = options.spanProcessors;
  // `traceExporter` makes the SDK wrap it in a BatchSpanProcessor tuned by OTEL_BSP_* variables.
  else if (exporter) config.traceExporter = exporter;
  else config.spanProcessors = [recordOnly];

  const sdk = new NodeSDK(config);
  sdk.start();
  usePrometheusReader(prometheus);
  holder[STATE] = { sdk };
}

/**
 * Flushes the spans still batched and stops the SDK. Safe to call more than once and before
 * the SDK started. The register hook calls it on SIGTERM, SIGINT and at the natural end of the
 * process; call it yourself only to flush before an explicit `process.exit()`.
 */
export function shutdownTelemetry(): Promise<void> {
  const state = holder[STATE];
  if (!state) return Promise.resolve();
  state.shutdown ??= state.sdk.shutdown();
  return state.shutdown;
}
