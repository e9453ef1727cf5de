import { ContractViolation, type ContractIssue } from './contract-violation.js';
import { checkEnvelope, type Envelope } from './envelope.js';

/**
 * Header names on the wire. `id` is the name Debezium's Outbox Event Router gives the message
 * id, so messages relayed by Debezium and by our own relay decode the same way.
 */
export const wireHeaders = {
  messageId: 'id',
  type: 'type',
  schemaVersion: 'schema-version',
  occurredAt: 'occurred-at',
  aggregateType: 'aggregate-type',
  correlationId: 'correlation-id',
  causationId: 'causation-id',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const;

/**
 * What {@link fromKafkaMessage} decodes at most, checked before anything is decoded or parsed, so
 * a hostile or broken producer cannot make every consumer spend memory and CPU on one message.
 * Our messages use 6 to 9 headers of at most a few hundred bytes (tracestate: 512) and payloads
 * of a few KiB (an `OrderPlaced` with 100 lines is about 15 KiB).
 */
export const wireLimits = {
  /** Header values in all, counting each repetition of a repeated header. */
  headers: 32,
  /** Bytes of one header name. */
  headerNameBytes: 256,
  /** Bytes of one header value. */
  headerValueBytes: 1024,
  /** Bytes of the key (the aggregate id). */
  keyBytes: 1024,
  /** Bytes of the value: the broker's default `message.max.bytes`, 1 MiB. */
  valueBytes: 1024 * 1024,
} as const;

/** A message ready for a Kafka producer (structurally what kafkajs' `Message` accepts). */
export interface OutgoingKafkaMessage {
  /** The aggregate id: Kafka keeps messages with one key in order. */
  key: string;
  /** JSON of the payload only; everything else travels in headers. */
  value: string;
  headers: Record<string, string>;
}

/**
 * A header as Kafka clients deliver it: kafkajs gives an array when a header is repeated, and
 * null for a header sent without a value (Debezium's Outbox Event Router sends NULL columns so).
 */
export type IncomingHeaderValue = Buffer | string | null | undefined | (Buffer | string | null)[];

/** A message as a Kafka consumer delivers it (structurally kafkajs' `KafkaMessage`). */
export interface IncomingKafkaMessage {
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, IncomingHeaderValue>;
}

/** The outcome of decoding: the validated envelope, or what is wrong with the message. */
export type DecodeResult = { ok: true; envelope: Envelope } | { ok: false; error: ContractViolation };

/** The envelope fields that travel as Kafka headers. */
export interface HeaderFields {
  messageId: string;
  type: string;
  schemaVersion: number;
  occurredAt: string;
  aggregateType: string;
  correlationId: string;
  causationId?: string | null;
  traceparent?: string | null;
  tracestate?: string | null;
}

/**
 * The Kafka headers of a message, named as {@link fromKafkaMessage} reads them. Optional fields
 * are left out when absent. It does not validate: the outbox relay calls it for rows whose
 * payload was validated when they were written.
 */
export function encodeHeaders(fields: HeaderFields): Record<string, string> {
  const headers: Record<string, string> = {
    [wireHeaders.messageId]: fields.messageId,
    [wireHeaders.type]: fields.type,
    [wireHeaders.schemaVersion]: String(fields.schemaVersion),
    [wireHeaders.occurredAt]: fields.occurredAt,
    [wireHeaders.aggregateType]: fields.aggregateType,
    [wireHeaders.correlationId]: fields.correlationId,
  };
  if (fields.causationId) headers[wireHeaders.causationId] = fields.causationId;
  if (fields.traceparent) headers[wireHeaders.traceparent] = fields.traceparent;
  if (fields.tracestate) headers[wireHeaders.tracestate] = fields.tracestate;
  return headers;
}

/**
 * Encodes an envelope for Kafka. It validates first: a message that breaks its contract must
 * never reach the wire, where every consumer would dead-letter it.
 * @throws ContractViolation when the envelope or its payload is invalid.
 */
export function toKafkaMessage(envelope: Envelope): OutgoingKafkaMessage {
  const valid = checkEnvelope(envelope, {});
  return { key: valid.aggregateId, value: JSON.stringify(valid.payload), headers: encodeHeaders(valid) };
}

const required = [
  'messageId',
  'type',
  'schemaVersion',
  'occurredAt',
  'aggregateType',
  'correlationId',
] as const;
const optional = ['causationId', 'traceparent', 'tracestate'] as const;

const headerLabels: Record<string, string> = {
  ...Object.fromEntries(Object.entries(wireHeaders).map(([field, header]) => [field, `header "${header}"`])),
  aggregateId: 'key',
};

/**
 * Decodes and validates a consumed Kafka message. Never throws for a bad message: the result
 * says exactly what is wrong (missing header, unknown type or version, invalid JSON, each
 * invalid field path, anything over {@link wireLimits}), which is what the dead-letter topic
 * should record. Sizes are checked first: an oversized message is not decoded at all.
 */
export function fromKafkaMessage(message: IncomingKafkaMessage): DecodeResult {
  const oversized = sizeIssues(message);
  if (oversized.length > 0) return { ok: false, error: new ContractViolation('Kafka message', oversized) };
  const issues: ContractIssue[] = [];
  const read = (field: keyof typeof wireHeaders, isRequired: boolean): string | undefined => {
    const name = wireHeaders[field];
    const raw = message.headers?.[name];
    // A header without a value says nothing: it reads as absent, like a header never sent.
    const values = present(raw).map(text);
    const distinct = [...new Set(values)];
    if (distinct.length > 1) {
      issues.push({
        path: `header "${name}"`,
        message: `appears ${values.length} times with different values`,
      });
      return undefined;
    }
    if (distinct.length === 0 && isRequired) issues.push({ path: `header "${name}"`, message: 'missing' });
    return distinct[0];
  };

  const fields: Partial<Record<keyof typeof wireHeaders, string>> = {};
  for (const field of required) fields[field] = read(field, true);
  for (const field of optional) fields[field] = read(field, false);

  let schemaVersion: number | undefined;
  if (fields.schemaVersion !== undefined) {
    if (/^[1-9]\d*$/.test(fields.schemaVersion)) schemaVersion = Number(fields.schemaVersion);
    else
      issues.push({
        path: `header "${wireHeaders.schemaVersion}"`,
        message: `expected a positive integer, got "${fields.schemaVersion}"`,
      });
  }

  const key = message.key === null ? undefined : text(message.key);
  if (key === undefined || key === '')
    issues.push({ path: 'key', message: 'missing (it must be the aggregate id)' });

  let payload: unknown;
  if (message.value === null) {
    issues.push({ path: 'value', message: 'missing (a tombstone is not a message)' });
  } else {
    try {
      payload = JSON.parse(text(message.value));
    } catch (error) {
      issues.push({ path: 'value', message: `invalid JSON: ${(error as Error).message}` });
    }
  }

  const context =
    fields.type !== undefined && schemaVersion !== undefined
      ? `${fields.type} v${schemaVersion}`
      : 'Kafka message';
  if (issues.length > 0) return { ok: false, error: new ContractViolation(context, issues) };

  try {
    const envelope = checkEnvelope(
      {
        messageId: fields.messageId,
        type: fields.type,
        schemaVersion,
        occurredAt: fields.occurredAt,
        aggregateType: fields.aggregateType,
        aggregateId: key,
        correlationId: fields.correlationId,
        causationId: fields.causationId ?? null,
        ...(fields.traceparent === undefined ? {} : { traceparent: fields.traceparent }),
        ...(fields.tracestate === undefined ? {} : { tracestate: fields.tracestate }),
        payload,
      },
      headerLabels,
    );
    return { ok: true, envelope };
  } catch (error) {
    if (error instanceof ContractViolation) return { ok: false, error };
    throw error;
  }
}

function sizeIssues(message: IncomingKafkaMessage): ContractIssue[] {
  const issues: ContractIssue[] = [];
  const tooBig = (path: string, bytes: number, max: number) => {
    if (bytes > max) issues.push({ path, message: `${bytes} bytes, at most ${max}` });
  };
  const entries = Object.entries(message.headers ?? {});
  const count = entries.reduce((n, [, raw]) => n + (Array.isArray(raw) ? raw.length : 1), 0);
  if (count > wireLimits.headers) {
    issues.push({ path: 'headers', message: `${count} header values, at most ${wireLimits.headers}` });
  }
  for (const [name, raw] of entries.slice(0, wireLimits.headers)) {
    const nameBytes = Buffer.byteLength(name);
    // A name past the limit is shown cut: the reason ends up in a dead-letter header itself.
    const shown = nameBytes > wireLimits.headerNameBytes ? `${name.slice(0, 32)}…` : name;
    tooBig(`header name "${shown}"`, nameBytes, wireLimits.headerNameBytes);
    for (const value of present(raw)) {
      tooBig(`header "${shown}"`, byteLength(value), wireLimits.headerValueBytes);
    }
  }
  if (message.key !== null) tooBig('key', byteLength(message.key), wireLimits.keyBytes);
  if (message.value !== null) tooBig('value', byteLength(message.value), wireLimits.valueBytes);
  return issues;
}

function byteLength(value: Buffer | string): number {
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

/** The values of a header, leaving out those sent without a value. */
function present(raw: IncomingHeaderValue): (Buffer | string)[] {
  return (Array.isArray(raw) ? raw : [raw]).filter((value): value is Buffer | string => value != null);
}

function text(value: Buffer | string): string {
  return typeof value === 'string' ? value : value.toString('utf8');
}
