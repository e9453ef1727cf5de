import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { describe, expect, it } from 'vitest';
import { traceExporterFromEnv } from './sdk.js';

const endpoint = 'http://127.0.0.1:4318';

describe('traceExporterFromEnv', () => {
  it('exports nothing when OTEL_EXPORTER_OTLP_ENDPOINT is unset', () => {
    expect(traceExporterFromEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toBeUndefined();
  });

  it('uses OTLP/HTTP protobuf by default', () => {
    expect(traceExporterFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint })).toBeInstanceOf(ProtoExporter);
  });

  it('uses OTLP/HTTP JSON for http/json', () => {
    expect(
      traceExporterFromEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      }),
    ).toBeInstanceOf(JsonExporter);
  });

  it('lets the traces-specific protocol override the general one', () => {
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
    };
    expect(traceExporterFromEnv(env)).toBeInstanceOf(ProtoExporter);
  });

  it('refuses grpc, which this image does not ship', () => {
    expect(() =>
      traceExporterFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }),
    ).toThrow(/unsupported "grpc"/);
  });
});
