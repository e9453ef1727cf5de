/** One span as the console keeps and serves it: enough for a waterfall. */
export interface StoredSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  /** `service.name` of the resource that sent it. */
  service: string;
  kind: number;
  startMs: number;
  durationMs: number;
  error: boolean;
  receivedAt: number;
}

// OTLP/HTTP JSON (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding): ids are hex,
// 64-bit integers may come as strings.
interface AnyValue {
  stringValue?: string;
}
interface OtlpSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  kind?: number;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  status?: { code?: number };
}
export interface ExportTraceServiceRequest {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value?: AnyValue }[] };
    scopeSpans?: { spans?: OtlpSpan[] }[];
  }[];
}

const nanosToMs = (n: string | number | undefined) => Number(BigInt(n ?? 0) / 1000n) / 1000;

/**
 * A bounded in-memory span store: spans older than `retentionMs` and, beyond `maxSpans`, the
 * oldest are dropped, so a console left running for days holds at most that many. Good enough for
 * a laptop; in compose the console reads Jaeger instead.
 */
export class SpanStore {
  private readonly byTrace = new Map<string, StoredSpan[]>();
  private count = 0;

  constructor(
    private readonly retentionMs: number,
    private readonly maxSpans = 200_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Adds the spans of one OTLP export request; returns how many it held. */
  add(request: ExportTraceServiceRequest): number {
    const receivedAt = this.now();
    let added = 0;
    for (const resourceSpans of request.resourceSpans ?? []) {
      const serviceAttr = resourceSpans.resource?.attributes?.find((a) => a.key === 'service.name');
      const service = serviceAttr?.value?.stringValue ?? 'unknown';
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          if (!span.traceId || !span.spanId) continue;
          const startMs = nanosToMs(span.startTimeUnixNano);
          const stored: StoredSpan = {
            traceId: span.traceId.toLowerCase(),
            spanId: span.spanId.toLowerCase(),
            // Root spans carry an empty string rather than no field.
            parentSpanId: span.parentSpanId ? span.parentSpanId.toLowerCase() : null,
            name: String(span.name ?? ''),
            service,
            kind: span.kind ?? 0,
            startMs,
            durationMs: Math.max(0, nanosToMs(span.endTimeUnixNano) - startMs),
            error: span.status?.code === 2,
            receivedAt,
          };
          const list = this.byTrace.get(stored.traceId) ?? [];
          if (list.length === 0) this.byTrace.set(stored.traceId, list);
          list.push(stored);
          added++;
        }
      }
    }
    this.count += added;
    this.evict();
    return added;
  }

  /** The spans of one trace, by start time. */
  trace(traceId: string): StoredSpan[] {
    this.evict();
    return [...(this.byTrace.get(traceId.toLowerCase()) ?? [])].sort((a, b) => a.startMs - b.startMs);
  }

  size(): number {
    return this.count;
  }

  // Map iteration follows insertion order, so the first traces are the oldest.
  private evict(): void {
    const horizon = this.now() - this.retentionMs;
    for (const [traceId, spans] of this.byTrace) {
      const newest = spans[spans.length - 1]!.receivedAt;
      if (newest >= horizon && this.count <= this.maxSpans) break;
      this.byTrace.delete(traceId);
      this.count -= spans.length;
    }
  }
}
