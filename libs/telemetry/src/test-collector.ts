import type { SpanProcessor } from './sdk.js';

/** A finished span as the SDK hands it to span processors. */
export type FinishedSpan = Parameters<SpanProcessor['onEnd']>[0];

/** A span processor that keeps every finished span in memory, for specs. */
export function spanCollector(): SpanProcessor & { spans: FinishedSpan[] } {
  const spans: FinishedSpan[] = [];
  return {
    spans,
    onStart: () => undefined,
    onEnd: (span) => void spans.push(span),
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
  };
}
