import { context, SpanKind, trace, type ProxyTracerProvider, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from './otlp-receiver.js';

// The real OTLP/JSON exporter behind the real SDK: the receiver must read what services send.
describe('OTLP receiver', () => {
  let receiver: OtlpReceiver;
  let sdk: NodeSDK;
  let tracer: Tracer;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    sdk = new NodeSDK({
      serviceName: 'receiver-spec',
      traceExporter: new OTLPTraceExporter({ url: `${receiver.endpoint}/v1/traces` }),
      // The SDK's defaults would also push metrics and logs to a collector on localhost.
      metricReaders: [],
      logRecordProcessors: [],
      autoDetectResources: false,
    });
    sdk.start();
    tracer = trace.getTracer('receiver-spec');
  });

  afterAll(async () => {
    await sdk.shutdown();
    await receiver.close();
  });

  // The batch processor would hold spans for seconds; the tests export them now.
  const flush = () =>
    (
      (trace.getTracerProvider() as ProxyTracerProvider).getDelegate() as unknown as {
        forceFlush(): Promise<void>;
      }
    ).forceFlush();

  it('receives exported spans with hex ids, parent links, kind, service and typed attributes', async () => {
    const parent = tracer.startSpan('place order', { kind: SpanKind.SERVER });
    const parentContext = trace.setSpan(context.active(), parent);
    const child = tracer.startSpan(
      'reserve stock',
      {
        kind: SpanKind.PRODUCER,
        attributes: { 'order.id': 'o-1', 'order.items': 3, 'order.paid': false, 'order.skus': ['a', 'b'] },
      },
      parentContext,
    );
    child.end();
    parent.end();
    await flush();

    const spans = await receiver.waitForSpans((all) => all.some((span) => span.name === 'reserve stock'));
    const received = spans.find((span) => span.name === 'reserve stock')!;
    const receivedParent = spans.find((span) => span.name === 'place order')!;

    expect(received).toMatchObject({
      traceId: parent.spanContext().traceId,
      spanId: child.spanContext().spanId,
      parentSpanId: parent.spanContext().spanId,
      kind: 'producer',
      service: 'receiver-spec',
      attributes: { 'order.id': 'o-1', 'order.items': 3, 'order.paid': false, 'order.skus': ['a', 'b'] },
    });
    expect(received.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(received.startTimeUnixNano).toMatch(/^\d{19}$/);
    expect(receivedParent.kind).toBe('server');
    expect(receivedParent).not.toHaveProperty('parentSpanId');
  });

  describe('waitForSpans', () => {
    it('resolves when spans exported after the wait began satisfy the predicate', async () => {
      const waiting = receiver.waitForSpans((all) => all.some((span) => span.name === 'late span'), 5_000);
      tracer.startSpan('late span').end();
      await flush();
      await expect(waiting).resolves.toEqual(
        expect.arrayContaining([expect.objectContaining({ name: 'late span' })]),
      );
    });

    it('rejects after the timeout, naming the spans that did arrive', async () => {
      tracer.startSpan('unrelated span').end();
      await flush();
      await expect(
        receiver.waitForSpans((all) => all.some((span) => span.name === 'never sent'), 200),
      ).rejects.toThrow(/did not arrive; received: .*receiver-spec\/unrelated span/);
    });
  });

  it('refuses protobuf with 415 so a misconfigured exporter fails loudly', async () => {
    const response = await fetch(`${receiver.endpoint}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: new Uint8Array([0x0a, 0x00]),
    });
    expect(response.status).toBe(415);
    expect(await response.text()).toMatch(/http\/json/);
  });

  it('answers 200 {} to an OTLP/JSON export', async () => {
    const response = await fetch(`${receiver.endpoint}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resourceSpans: [] }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({});
  });
});
