import { callJson, UpstreamError } from '../http/upstream.js';
import type { StoredSpan } from './span-store.js';

// Jaeger's query API (`GET /api/traces/{id}`, what its own UI reads): times in microseconds,
// parents as CHILD_OF references, the service on the span's process, the kind and the error as tags.
interface JaegerTag {
  key: string;
  value: unknown;
}
interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references?: { refType: string; traceID: string; spanID: string }[];
  startTime: number;
  duration: number;
  tags?: JaegerTag[];
  processID: string;
}
export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

// OTLP's SpanKind numbers, which the page's waterfall (and the in-memory store) use.
const KINDS: Record<string, number> = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };

const tag = (span: JaegerSpan, key: string) => span.tags?.find((t) => t.key === key)?.value;
// Jaeger may drop leading zeros of an id; OTLP ids are 32 and 16 hex digits.
const traceIdOf = (id: string) => id.toLowerCase().padStart(32, '0');
const spanIdOf = (id: string) => id.toLowerCase().padStart(16, '0');

/** A trace as Jaeger's query API answers it, as the spans the order page draws. */
export function fromJaeger(trace: JaegerTrace, receivedAt = Date.now()): StoredSpan[] {
  return trace.spans
    .map((span) => {
      const parent = span.references?.find((r) => r.refType === 'CHILD_OF' && traceIdOf(r.traceID) === traceIdOf(span.traceID));
      const kind = tag(span, 'span.kind');
      return {
        traceId: traceIdOf(span.traceID),
        spanId: spanIdOf(span.spanID),
        parentSpanId: parent ? spanIdOf(parent.spanID) : null,
        name: span.operationName,
        service: trace.processes[span.processID]?.serviceName ?? 'unknown',
        kind: typeof kind === 'string' ? (KINDS[kind] ?? 0) : 0,
        startMs: span.startTime / 1000,
        durationMs: span.duration / 1000,
        error: tag(span, 'error') === true || tag(span, 'otel.status_code') === 'ERROR',
        receivedAt,
      };
    })
    .sort((a, b) => a.startMs - b.startMs);
}

/** The spans of one trace from Jaeger; none while Jaeger does not know the trace yet (404). */
export async function jaegerTrace(queryUrl: string, traceId: string): Promise<StoredSpan[]> {
  try {
    const body = (await callJson(`${queryUrl}/api/traces/${traceId}`)) as { data?: JaegerTrace[] };
    return (body.data ?? []).flatMap((trace) => fromJaeger(trace));
  } catch (error) {
    if (error instanceof UpstreamError && error.status === 404) return [];
    throw error;
  }
}
