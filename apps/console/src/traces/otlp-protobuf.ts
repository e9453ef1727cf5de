import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { ExportTraceServiceRequest } from './span-store.js';

// The OTLP definitions as published by open-telemetry/opentelemetry-proto (v1.11.0, Apache-2.0),
// the trace service and what it imports: apps/console/proto/. Same path from src/ and dist/.
const PROTO_DIR = fileURLToPath(new URL('../../proto', import.meta.url));
const REQUEST = 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest';

let requestType: protobuf.Type | undefined;

function exportTraceServiceRequest(): protobuf.Type {
  if (!requestType) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
    root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto');
    requestType = root.lookupType(REQUEST);
  }
  return requestType;
}

/** A malformed body: the receiver answers 400. */
export class OtlpDecodeError extends Error {}

/**
 * An OTLP/HTTP protobuf export request (`application/x-protobuf`) in the shape of its JSON
 * encoding, which the span store reads: camelCase fields, 64-bit integers as strings, and trace
 * and span ids as hex (protobuf carries them as bytes; OTLP/JSON as hex, not base64).
 */
export function decodeTraceRequest(body: Uint8Array): ExportTraceServiceRequest {
  const type = exportTraceServiceRequest();
  let object: Record<string, unknown>;
  try {
    object = type.toObject(type.decode(body), { longs: String, bytes: String, enums: Number });
  } catch (error) {
    throw new OtlpDecodeError(`not an OTLP ExportTraceServiceRequest: ${(error as Error).message}`);
  }
  const request = object as ExportTraceServiceRequest;
  for (const resourceSpans of request.resourceSpans ?? []) {
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        span.traceId = hex(span.traceId);
        span.spanId = hex(span.spanId);
        span.parentSpanId = hex(span.parentSpanId);
      }
    }
  }
  return request;
}

const hex = (base64: string | undefined) => (base64 ? Buffer.from(base64, 'base64').toString('hex') : undefined);
