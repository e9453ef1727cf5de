import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';

/** W3C trace-context headers as they travel in a message envelope or Kafka headers. */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

const TRACER_NAME = '@order-saga/telemetry';

/**
 * The trace context of the active span, to store beside an outgoing message (the outbox row),
 * so the consumer's span joins the same trace. Empty when no span is active or tracing is off.
 */
export function currentTraceContext(): TraceCarrier {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  const result: TraceCarrier = {};
  if (carrier['traceparent']) result.traceparent = carrier['traceparent'];
  if (carrier['tracestate']) result.tracestate = carrier['tracestate'];
  return result;
}

/** An OpenTelemetry context whose remote parent is the span named by `carrier`. */
export function contextFromTraceparent(carrier: TraceCarrier): Context {
  const headers: Record<string, string> = {};
  if (carrier.traceparent) headers['traceparent'] = carrier.traceparent;
  if (carrier.tracestate) headers['tracestate'] = carrier.tracestate;
  // ROOT, not the active context: a consumer's span must hang off the producer's trace, not off
  // whatever span happens to be active in the polling loop.
  return propagation.extract(ROOT_CONTEXT, headers);
}

async function runInSpan<T>(span: Span, fn: (span: Span) => Promise<T> | T): Promise<T> {
  try {
    const result = await fn(span);
    span.setStatus({ code: SpanStatusCode.OK });
    return result;
  } catch (error) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    throw error;
  } finally {
    span.end();
  }
}

/**
 * Runs `fn` in a CONSUMER span that continues the trace of the message's producer. The span
 * records the exception and gets status ERROR when `fn` throws (the error is rethrown).
 */
export function withConsumerSpan<T>(
  name: string,
  parentCarrier: TraceCarrier,
  attributes: Attributes,
  fn: (span: Span) => Promise<T> | T,
): Promise<T> {
  const tracer = trace.getTracer(TRACER_NAME);
  return tracer.startActiveSpan(
    name,
    { kind: SpanKind.CONSUMER, attributes },
    contextFromTraceparent(parentCarrier),
    (span) => runInSpan(span, fn),
  );
}

/** Runs `fn` in an INTERNAL child span of the active one; same error handling as {@link withConsumerSpan}. */
export function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T> | T,
): Promise<T> {
  return trace
    .getTracer(TRACER_NAME)
    .startActiveSpan(name, { kind: SpanKind.INTERNAL, attributes }, (span) => runInSpan(span, fn));
}
