import { describe, expect, it } from 'vitest';
import { SpanStore, type ExportTraceServiceRequest } from './span-store.js';

const trace = 'a'.repeat(32);
function request(service: string, spans: { id: string; parent?: string; startMs: number; endMs: number }[]): ExportTraceServiceRequest {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [
          {
            spans: spans.map((s) => ({
              traceId: trace.toUpperCase(),
              spanId: s.id,
              parentSpanId: s.parent ?? '',
              name: `${service} work`,
              startTimeUnixNano: String(BigInt(s.startMs) * 1_000_000n),
              endTimeUnixNano: String(BigInt(s.endMs) * 1_000_000n),
            })),
          },
        ],
      },
    ],
  };
}

describe('span store', () => {
  it('keeps_spans_of_every_service_under_their_trace_with_parent_links_and_durations', () => {
    const store = new SpanStore(60_000);
    store.add(request('payment', [{ id: '2'.repeat(16), parent: '1'.repeat(16), startMs: 1_010, endMs: 1_030 }]));
    store.add(request('order', [{ id: '1'.repeat(16), startMs: 1_000, endMs: 1_050 }]));

    const spans = store.trace(trace);
    expect(spans.map((s) => [s.service, s.parentSpanId, s.durationMs])).toEqual([
      ['order', null, 50],
      ['payment', '1'.repeat(16), 20],
    ]);
  });

  it('forgets_traces_older_than_the_retention', () => {
    let now = 0;
    const store = new SpanStore(1_000, 100, () => now);
    store.add(request('order', [{ id: '1'.repeat(16), startMs: 0, endMs: 1 }]));
    now = 1_001;
    expect(store.trace(trace)).toEqual([]);
    expect(store.size()).toBe(0);
  });

  it('drops_the_oldest_traces_beyond_its_capacity', () => {
    const store = new SpanStore(60_000, 1);
    store.add(request('order', [{ id: '1'.repeat(16), startMs: 0, endMs: 1 }]));
    store.add({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'b'.repeat(32), spanId: '3'.repeat(16) }] }] }] });
    expect(store.trace(trace)).toEqual([]);
    expect(store.trace('b'.repeat(32))).toHaveLength(1);
  });
});
