import type { AddressInfo } from 'node:net';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConsoleConfig } from './config.js';
import { createConsoleServer, type ConsoleServer } from './server.js';

// No broker is reached by these requests: the Kafka client is never connected.
const kafka = new Kafka({ clientId: 'console-spec', brokers: ['127.0.0.1:9'] });
let console_: ConsoleServer;
let base: string;

beforeAll(async () => {
  const config = loadConsoleConfig({ SERVICE_NAME: 'console', KAFKA_BROKERS: '127.0.0.1:9', KAFKA_TOPIC_PREFIX: 't-run-1.' });
  console_ = createConsoleServer(config, kafka, '/nonexistent');
  await new Promise<void>((resolve) => console_.server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(console_.server.address() as AddressInfo).port}`;
});
afterAll(() => console_.close());

describe('the console API for dead letters', () => {
  it('a_topic_name_that_is_not_one_of_its_dead_letter_topics_is_refused_naming_those_it_reads', async () => {
    // The prefix ends with a dot: `${prefix}.inventory.commands.dlt` doubles it.
    const response = await fetch(`${base}/api/dead-letters/t-run-1..inventory.commands.dlt`);
    expect(response.status).toBe(404);
    const { message } = (await response.json()) as { message: string };
    expect(message).toContain('t-run-1..inventory.commands.dlt is not a dead-letter topic of this console');
    expect(message).toContain('t-run-1.inventory.commands.dlt');
  });

  it('replaying_a_dead_letter_without_an_admin_session_is_refused', async () => {
    const response = await fetch(`${base}/api/dead-letters/t-run-1.inventory.commands.dlt/replay`, { method: 'POST' });
    expect(response.status).toBe(401);
  });
});

/** Two spans, a consumer span under a server span, as a service's SDK records them. */
async function recordedSpans(): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const processor = new SimpleSpanProcessor({ exporter: memory });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'payment' }),
    spanProcessors: [processor],
  });
  const tracer = provider.getTracer('console-spec');
  const parent = tracer.startSpan('POST /orders', { kind: SpanKind.SERVER, startTime: new Date('2026-12-02T07:00:00.000Z') });
  const child = tracer.startSpan(
    'payment.commands process',
    { kind: SpanKind.CONSUMER, startTime: new Date('2026-12-02T07:00:00.010Z') },
    trace.setSpan(context.active(), parent),
  );
  child.setStatus({ code: SpanStatusCode.ERROR });
  child.end(new Date('2026-12-02T07:00:00.035Z'));
  parent.end(new Date('2026-12-02T07:00:00.050Z'));
  // The span processor hands ended spans on asynchronously.
  await processor.forceFlush();
  return memory.getFinishedSpans();
}

describe('the OTLP receiver', () => {
  it('keeps_the_spans_of_a_protobuf_export_as_the_otlp_proto_exporter_sends_it', async () => {
    const spans = await recordedSpans();
    expect(spans).toHaveLength(2);
    const exporter = new OTLPTraceExporter({ url: `${base}/v1/traces` });
    const result = await new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(spans, resolve));
    expect(result.error).toBeUndefined();
    expect(result.code).toBe(0);
    await exporter.shutdown();

    const [parent, child] = [spans.find((s) => s.name === 'POST /orders')!, spans.find((s) => s.name !== 'POST /orders')!];
    const traceId = parent.spanContext().traceId;
    expect(console_.spans.trace(traceId)).toMatchObject([
      { traceId, spanId: parent.spanContext().spanId, parentSpanId: null, name: 'POST /orders', service: 'payment', kind: 2 /* OTLP's SPAN_KIND_SERVER */, startMs: Date.parse('2026-12-02T07:00:00.000Z'), durationMs: 50, error: false },
      { traceId, spanId: child.spanContext().spanId, parentSpanId: parent.spanContext().spanId, name: 'payment.commands process', service: 'payment', durationMs: 25, error: true },
    ]);
  });

  it('answers_400_to_a_protobuf_body_that_is_not_an_export_request', async () => {
    const response = await fetch(`${base}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toContain('not an OTLP ExportTraceServiceRequest');
  });

  it('answers_415_to_another_encoding', async () => {
    const response = await fetch(`${base}/v1/traces`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'spans' });
    expect(response.status).toBe(415);
  });
});
