import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTelemetry } from './sdk.js';
import { spanCollector } from './test-collector.js';
import { contextFromTraceparent, currentTraceContext, withConsumerSpan, withSpan } from './trace-context.js';

const collector = spanCollector();
const finished = (name: string) => collector.spans.find((span) => span.name === name)!;

beforeAll(() => startTelemetry({ env: {}, spanProcessors: [collector] }));
beforeEach(() => void collector.spans.splice(0));

describe('trace context', () => {
  it('is empty outside any span', () => {
    expect(currentTraceContext()).toEqual({});
  });

  it('round-trips through traceparent: a span started from it is a child of the original span', async () => {
    const { producer, carrier } = await withSpan('produce', {}, (span) => ({
      producer: span.spanContext(),
      carrier: currentTraceContext(),
    }));
    expect(carrier.traceparent).toBe(`00-${producer.traceId}-${producer.spanId}-01`);

    await context.with(contextFromTraceparent(carrier), () => withSpan('consume', {}, () => undefined));

    const child = finished('consume');
    expect(child.spanContext().traceId).toBe(producer.traceId);
    expect(child.parentSpanContext?.spanId).toBe(producer.spanId);
    expect(child.parentSpanContext?.isRemote).toBe(true);
  });

  it('carries tracestate along with traceparent', () => {
    const carrier = {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'vendor=abc',
    };
    const restored = context.with(contextFromTraceparent(carrier), () => currentTraceContext());
    expect(restored).toEqual(carrier);
  });

  it('ignores a malformed traceparent and starts a new trace', async () => {
    await context.with(contextFromTraceparent({ traceparent: 'not-a-traceparent' }), () =>
      withSpan('fresh', {}, () => undefined),
    );
    expect(finished('fresh').parentSpanContext).toBeUndefined();
  });
});

describe('withConsumerSpan', () => {
  it('continues the producer trace as a CONSUMER span, even inside an unrelated active span', async () => {
    const carrier = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
    await withSpan('poll loop', {}, () =>
      withConsumerSpan('order.events process', carrier, { 'messaging.system': 'kafka' }, () => undefined),
    );
    const span = finished('order.events process');
    expect(span.kind).toBe(SpanKind.CONSUMER);
    expect(span.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(span.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(span.attributes['messaging.system']).toBe('kafka');
  });

  it('makes its span the active one inside the handler', async () => {
    const active = await withConsumerSpan('handle', {}, {}, (span) => trace.getActiveSpan() === span);
    expect(active).toBe(true);
  });
});

describe('withSpan', () => {
  it('returns the result and sets status OK', async () => {
    await expect(withSpan('work', { 'order.id': 'o-1' }, async () => 42)).resolves.toBe(42);
    expect(finished('work').status.code).toBe(SpanStatusCode.OK);
    expect(finished('work').attributes['order.id']).toBe('o-1');
  });

  it('records the exception, sets status ERROR and rethrows', async () => {
    await expect(
      withSpan('failing', {}, () => Promise.reject(new Error('stock service down'))),
    ).rejects.toThrow('stock service down');
    const span = finished('failing');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'stock service down' });
    expect(span.events.map((event) => [event.name, event.attributes?.['exception.message']])).toEqual([
      ['exception', 'stock service down'],
    ]);
  });

  it('starts a child of the active span', async () => {
    await withSpan('parent', {}, () => withSpan('child', {}, () => undefined));
    expect(finished('child').parentSpanContext?.spanId).toBe(finished('parent').spanContext().spanId);
  });
});
