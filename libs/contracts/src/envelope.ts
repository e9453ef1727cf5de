import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { TextId, limits } from './common.js';
import { ContractViolation, issuesFromZod, type ContractIssue } from './contract-violation.js';
import {
  currentVersion,
  messageSpec,
  validateMessage,
  type Message,
  type MessageType,
  type PayloadOf,
  type VersionOf,
} from './registry.js';

/**
 * The frame every message travels in. The schema checks the frame only (the payload is
 * `unknown` here); {@link parseEnvelope} also checks the payload against the registry.
 */
export const Envelope = z.strictObject({
  messageId: z.uuid(),
  type: z.string().min(1).max(100),
  schemaVersion: z.number().int().min(1).max(limits.int32),
  occurredAt: z.iso.datetime({ offset: true }),
  aggregateType: z.string().min(1).max(100),
  aggregateId: TextId,
  /** Shared by every message of one business flow (one order's saga). */
  correlationId: TextId,
  /** The id of the message that caused this one; null for the first message of a flow. */
  causationId: TextId.nullable().default(null),
  // Trace context is not validated: a malformed traceparent costs a broken trace, and rejecting
  // the message for it would cost an order. Only its size is: a version-00 traceparent is 55
  // characters, and OpenTelemetry's propagator drops a tracestate longer than 512.
  traceparent: z.string().max(256).optional(),
  tracestate: z.string().max(512).optional(),
  payload: z.unknown(),
});

type EnvelopeFrame = Omit<z.output<typeof Envelope>, 'type' | 'schemaVersion' | 'payload'>;

type EnvelopeOfVersion<T extends MessageType, V> =
  V extends VersionOf<T> ? EnvelopeFrame & { type: T; schemaVersion: V; payload: PayloadOf<T, V> } : never;

/**
 * A validated message: the frame plus a payload typed by `type` and `schemaVersion`, so
 * `switch (envelope.type)` narrows `envelope.payload`.
 */
export type Envelope<T extends MessageType = MessageType> = T extends MessageType
  ? EnvelopeOfVersion<T, VersionOf<T>>
  : never;

/** The frame fields a producer chooses; the rest are derived from the message and the clock. */
export interface EnvelopeMeta {
  correlationId: string;
  causationId?: string | null;
  traceparent?: string;
  tracestate?: string;
  /** Defaults to a new random UUID. */
  messageId?: string;
  /** Defaults to now. */
  occurredAt?: Date;
}

/**
 * Wraps a payload in an envelope at the type's current version, taking the aggregate type and
 * id from the registry so they always match the message.
 * @throws ContractViolation when the payload breaks its schema.
 */
export function createEnvelope<T extends MessageType>(
  type: T,
  payload: PayloadOf<T>,
  meta: EnvelopeMeta,
): Envelope<T> {
  const schemaVersion = currentVersion(type);
  const spec = messageSpec(type, schemaVersion);
  const valid = validateMessage(type, schemaVersion, payload) as Record<string, unknown>;
  return parseEnvelope({
    messageId: meta.messageId ?? randomUUID(),
    type,
    schemaVersion,
    occurredAt: (meta.occurredAt ?? new Date()).toISOString(),
    aggregateType: spec.aggregateType,
    aggregateId: valid[spec.aggregateIdField],
    correlationId: meta.correlationId,
    causationId: meta.causationId ?? null,
    ...(meta.traceparent === undefined ? {} : { traceparent: meta.traceparent }),
    ...(meta.tracestate === undefined ? {} : { tracestate: meta.tracestate }),
    payload: valid,
  }) as Envelope<T>;
}

/**
 * The correlation and causation of a message sent in reaction to `cause`: same flow, caused by
 * that message. Spread it into {@link createEnvelope}'s meta.
 */
export function causedBy(cause: Pick<Envelope, 'messageId' | 'correlationId'>): {
  correlationId: string;
  causationId: string;
} {
  return { correlationId: cause.correlationId, causationId: cause.messageId };
}

/** The payload tagged with its type: the shape handlers and sagas switch on. */
export function toMessage<T extends MessageType>(envelope: Envelope<T>): Message<T> {
  return { type: envelope.type, ...(envelope.payload as object) } as Message<T>;
}

/**
 * Validates a whole envelope: the frame, the payload against the registered (type, version),
 * and that the aggregate type and id agree with the message.
 * @throws ContractViolation listing every problem; payload paths are relative to the payload.
 */
export function parseEnvelope(input: unknown): Envelope {
  return checkEnvelope(input, {});
}

/**
 * {@link parseEnvelope} with frame fields reported under other names, so a decoder can say
 * `header "id"` where the frame says `messageId`. Internal: not exported from the package.
 */
export function checkEnvelope(input: unknown, fieldNames: Partial<Record<string, string>>): Envelope {
  const rename = (issues: ContractIssue[]) =>
    issues.map((issue) => ({ ...issue, path: fieldNames[issue.path] ?? issue.path }));

  const frame = Envelope.safeParse(input);
  if (!frame.success) throw new ContractViolation(frameContext(input), rename(issuesFromZod(frame.error)));
  const { type, schemaVersion } = frame.data;
  const spec = messageSpec(type, schemaVersion);
  const payload = validateMessage(type, schemaVersion, frame.data.payload) as Record<string, unknown>;

  const issues: ContractIssue[] = [];
  if (frame.data.aggregateType !== spec.aggregateType) {
    issues.push({
      path: 'aggregateType',
      message: `is "${frame.data.aggregateType}", expected "${spec.aggregateType}"`,
    });
  }
  const aggregateId = payload[spec.aggregateIdField];
  if (frame.data.aggregateId !== aggregateId) {
    issues.push({
      path: 'aggregateId',
      message: `is "${frame.data.aggregateId}", expected the payload's ${spec.aggregateIdField} "${String(aggregateId)}"`,
    });
  }
  if (issues.length > 0) throw new ContractViolation(`${type} v${schemaVersion}`, rename(issues));
  return { ...frame.data, payload } as Envelope;
}

function frameContext(input: unknown): string {
  const { type, schemaVersion } = (input ?? {}) as { type?: unknown; schemaVersion?: unknown };
  return typeof type === 'string' && typeof schemaVersion === 'number'
    ? `${type} v${schemaVersion}`
    : 'envelope';
}
