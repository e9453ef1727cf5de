import { startOtlpReceiver, waitFor, type OtlpReceiver, type ReceivedSpan } from '@order-saga/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anOrder, SagaSystem, services } from './system.js';

describe('one order, one trace', () => {
  let system: SagaSystem;
  let receiver: OtlpReceiver;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    system = await SagaSystem.start('trace', {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
  });
  afterAll(async () => {
    await system?.stop();
    await receiver?.close();
  });

  it('links the spans of all four services into the trace of the POST, along the saga', async () => {
    const orderId = await system.place(anOrder());
    expect((await system.waitForTerminal(orderId)).status).toBe('CONFIRMED');

    const post = () =>
      receiver.spans().find((s) => s.service === 'order' && s.kind === 'server' && /POST/.test(s.name));
    await waitFor(() => !!post(), {
      timeoutMs: 20_000,
      message: () => `no POST span; got ${receiver.spans().length} spans`,
    });
    const traceId = post()!.traceId;
    const inTrace = () => receiver.spans().filter((s) => s.traceId === traceId);
    const handled = (service: string) =>
      inTrace().filter((s) => s.service === service && s.kind === 'consumer');
    await waitFor(
      () =>
        services.every((service) => inTrace().some((s) => s.service === service)) &&
        handled('shipping').length > 0,
      {
        timeoutMs: 30_000,
        message: () => `services in trace: ${[...new Set(inTrace().map((s) => s.service))].join(', ')}`,
      },
    );

    // Every consumer span's parent is a span of the same trace (HTTP → outbox → consumer → outbox → …).
    // Each service exports in its own batches: a span between two others may arrive last, so the
    // chains are given time to close before they are checked.
    let byId = new Map<string, ReceivedSpan>();
    const rootOf = (span: ReceivedSpan): ReceivedSpan => {
      let current = span;
      for (let hops = 0; current.parentSpanId && byId.has(current.parentSpanId) && hops < 100; hops++)
        current = byId.get(current.parentSpanId)!;
      return current;
    };
    const consumerSpans = () => ['inventory', 'payment', 'shipping'].flatMap((service) => handled(service));
    await waitFor(
      () => {
        byId = new Map(inTrace().map((s) => [s.spanId, s]));
        return consumerSpans().every((span) => rootOf(span).spanId === rootOf(post()!).spanId);
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    ).catch(() => undefined);
    byId = new Map(inTrace().map((s) => [s.spanId, s]));
    for (const service of ['inventory', 'payment', 'shipping']) {
      const spans = handled(service);
      expect(spans.length, `${service} consumer spans`).toBeGreaterThan(0);
      for (const span of spans) expect(rootOf(span).spanId).toBe(rootOf(post()!).spanId);
    }
    // The shipment is created after the charge: its consumer span descends from payment's.
    const chain = (span: ReceivedSpan) => {
      const names: string[] = [];
      for (
        let s: ReceivedSpan | undefined = span;
        s;
        s = s.parentSpanId ? byId.get(s.parentSpanId) : undefined
      )
        names.push(`${s.service}:${s.kind}`);
      return names;
    };
    expect(chain(handled('shipping')[0]!)).toEqual(
      expect.arrayContaining(['payment:consumer', 'inventory:consumer', 'order:server']),
    );
  });

  it('carries the order correlation id on every log line about the order, in every service', async () => {
    const orderId = await system.place(anOrder({ items: [{ sku: 'gadget', quantity: 1 }] }));
    await system.waitForTerminal(orderId);
    const [row] = await system.query<{ correlation_id: string }>(
      'order',
      'SELECT correlation_id FROM "order" WHERE id = $1',
      [orderId],
    );
    const correlationId = row!.correlation_id;
    await new Promise((r) => setTimeout(r, 500));
    for (const service of services) {
      const lines = system.processes
        .get(service)!
        .logs.split('\n')
        // HTTP access lines of GET /orders/:id carry that request's own correlation id.
        .filter((line) => line.startsWith('{') && line.includes(orderId) && !line.includes('"req":{'));
      expect(lines.length, `${service} logged nothing about ${orderId}`).toBeGreaterThan(0);
      for (const line of lines) expect(JSON.parse(line).correlation_id, line).toBe(correlationId);
    }
  });
});
