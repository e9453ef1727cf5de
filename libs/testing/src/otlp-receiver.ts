import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';

/** One span as an OTLP/HTTP JSON exporter sent it, flattened for assertions. */
export interface ReceivedSpan {
  /** 32 lowercase hex digits. */
  traceId: string;
  /** 16 lowercase hex digits. */
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';
  /** `service.name` of the resource that sent the span. */
  service: string;
  attributes: Record<string, unknown>;
  startTimeUnixNano: string;
}

/** A running receiver; see {@link startOtlpReceiver}. */
export interface OtlpReceiver {
  /** Base URL for `OTEL_EXPORTER_OTLP_ENDPOINT`; exporters append `/v1/traces`. */
  endpoint: string;
  /** Every span received so far, in arrival order. */
  spans(): ReceivedSpan[];
  /**
   * Resolves with all spans received once `predicate` holds for them; rejects after `timeoutMs`
   * with the names of the spans that did arrive.
   */
  waitForSpans(
    predicate: (spans: readonly ReceivedSpan[]) => boolean,
    timeoutMs?: number,
  ): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

// The wire format: https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding
// (ids are hex in OTLP/JSON, unlike protobuf's bytes; 64-bit integers may come as strings).
interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
  bytesValue?: string;
}
interface KeyValue {
  key: string;
  value?: AnyValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  attributes?: KeyValue[];
  startTimeUnixNano: string | number;
}
interface ExportTraceServiceRequest {
  resourceSpans?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

const KINDS: ReceivedSpan['kind'][] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];

function valueOf(value: AnyValue | undefined): unknown {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(valueOf);
  if (value.kvlistValue) return attributesOf(value.kvlistValue.values);
  return value.bytesValue;
}

function attributesOf(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, valueOf(value)]));
}

function flatten(request: ExportTraceServiceRequest): ReceivedSpan[] {
  return (request.resourceSpans ?? []).flatMap((resourceSpans) => {
    const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name'] ?? '');
    return (resourceSpans.scopeSpans ?? []).flatMap((scope) =>
      (scope.spans ?? []).map((span) => {
        const received: ReceivedSpan = {
          traceId: span.traceId.toLowerCase(),
          spanId: span.spanId.toLowerCase(),
          name: span.name,
          kind: KINDS[span.kind ?? 0] ?? 'unspecified',
          service,
          attributes: attributesOf(span.attributes),
          startTimeUnixNano: String(span.startTimeUnixNano),
        };
        // Root spans carry an empty string rather than no field.
        if (span.parentSpanId) received.parentSpanId = span.parentSpanId.toLowerCase();
        return received;
      }),
    );
  });
}

async function bodyOf(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  return request.headers['content-encoding'] === 'gzip' ? promisify(gunzip)(body) : body;
}

/**
 * Starts an OTLP/HTTP trace receiver on 127.0.0.1 (a free port) that keeps every span it is
 * sent, so a test can assert on the traces a real process exported: no collector needed.
 * Accepts JSON only (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`); protobuf gets a 415 that says so.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const received: ReceivedSpan[] = [];
  const waiters = new Set<() => void>();

  const server = createServer((request, response) => {
    const reply = (status: number, body: object) => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (request.method !== 'POST' || request.url !== '/v1/traces') {
      request.resume();
      return reply(404, { message: 'only POST /v1/traces is received here' });
    }
    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
      request.resume();
      return reply(415, { message: 'OTLP/JSON only: set OTEL_EXPORTER_OTLP_PROTOCOL=http/json' });
    }
    bodyOf(request)
      .then((body) => {
        received.push(...flatten(JSON.parse(body.toString('utf8')) as ExportTraceServiceRequest));
        for (const wake of waiters) wake();
        reply(200, {});
      })
      .catch((error: unknown) => reply(400, { message: String(error) }));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans: () => [...received],
    waitForSpans(predicate, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(received)) return;
          settle();
          resolve([...received]);
        };
        const timer = setTimeout(() => {
          settle();
          const names = received.map((span) => `${span.service}/${span.name}`).join(', ') || 'none';
          reject(new Error(`spans expected within ${timeoutMs} ms did not arrive; received: ${names}`));
        }, timeoutMs);
        const settle = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
