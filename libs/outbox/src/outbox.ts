import {
  currentVersion,
  messageSpec,
  topicName,
  validateMessage,
  type MessageType,
} from '@order-saga/contracts';
import { currentMessageContext, currentTraceContext } from '@order-saga/telemetry';
import { v7 as uuidv7 } from 'uuid';
import type { SqlTx } from './sql-tx.js';

/** A message to publish: a contract type, its payload and the aggregate it belongs to. */
export interface OutgoingMessage<P = unknown> {
  /** Contract type name, e.g. `ReserveStock`. Decides the topic and the schema. */
  type: string;
  payload: P;
  /** Defaults to the newest version of the type in `@order-saga/contracts`. */
  schemaVersion?: number;
  /** Defaults to the correlation id of the message being handled, or a new one. */
  correlationId?: string;
}

const COLUMNS = [
  'id',
  'aggregatetype',
  'aggregateid',
  'type',
  'payload',
  'topic',
  'schema_version',
  'correlation_id',
  'causation_id',
  'traceparent',
  'tracestate',
] as const;
const CASTS = ['uuid', 'text', 'text', 'text', 'jsonb', 'text', 'int', 'text', 'text', 'text', 'text'];

/** Options of {@link Outbox}. */
export interface OutboxOptions {
  /** Prefix of every topic name written into the rows (`KAFKA_TOPIC_PREFIX`). */
  topicPrefix?: string;
  /**
   * Deletes the rows again in the same transaction, for change data capture (Debezium): the
   * insert is in the write-ahead log, which is all a log-based relay reads, so the table stays
   * empty and needs no purge. Never with the in-process relay, which reads the table.
   */
  deleteAfterInsert?: boolean;
}

/**
 * Writes messages into the `outbox` table inside the caller's transaction. Nothing is sent to
 * Kafka here: the relay publishes rows after they commit, so a state change and the messages
 * that announce it are committed together or not at all.
 */
export class Outbox {
  constructor(private readonly options: OutboxOptions = {}) {}

  /**
   * Validates each payload against its contract and inserts one outbox row per message, carrying
   * the current trace context and correlation id (which become Kafka headers).
   * @returns the message ids, in order.
   */
  async enqueue(messages: OutgoingMessage | readonly OutgoingMessage[], tx: SqlTx): Promise<string[]> {
    const list = Array.isArray(messages) ? messages : [messages as OutgoingMessage];
    if (list.length === 0) return [];
    const handling = currentMessageContext();
    const trace = currentTraceContext();
    const values: unknown[] = [];
    const ids: string[] = [];
    for (const message of list) {
      const spec = messageSpec(message.type, message.schemaVersion ?? currentVersion(message.type));
      const payload = validateMessage(spec.type as MessageType, spec.schemaVersion, message.payload);
      // The Kafka key is the aggregate id named by the contract (the order id for every saga
      // message), so one aggregate's messages share a partition and stay in order.
      const aggregateId = String((payload as Record<string, unknown>)[spec.aggregateIdField]);
      const id = uuidv7();
      ids.push(id);
      values.push(
        id,
        spec.aggregateType,
        aggregateId,
        spec.type,
        JSON.stringify(payload),
        topicName(spec.topic, this.options.topicPrefix),
        spec.schemaVersion,
        message.correlationId ?? handling?.correlationId ?? uuidv7(),
        handling?.messageId ?? null,
        trace.traceparent ?? null,
        trace.tracestate ?? null,
      );
    }
    const rows = list.map(
      (_, r) => `(${CASTS.map((cast, c) => `$${r * COLUMNS.length + c + 1}::${cast}`).join(', ')})`,
    );
    await tx.$executeRawUnsafe(
      `INSERT INTO outbox (${COLUMNS.join(', ')}) VALUES ${rows.join(', ')}`,
      ...values,
    );
    if (this.options.deleteAfterInsert)
      await tx.$executeRawUnsafe('DELETE FROM outbox WHERE id = ANY($1::uuid[])', ids);
    return ids;
  }
}
