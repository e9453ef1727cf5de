import type { IHeaders } from 'kafkajs';

/** Headers the transport adds to a dead-lettered message (beside the original headers). */
export const DLT_HEADERS = {
  originalTopic: 'dlt-original-topic',
  originalPartition: 'dlt-original-partition',
  originalOffset: 'dlt-original-offset',
  consumer: 'dlt-consumer',
  errorClass: 'dlt-error-class',
  errorMessage: 'dlt-error-message',
  attempts: 'dlt-attempts',
  firstFailureAt: 'dlt-first-failure-at',
  lastFailureAt: 'dlt-last-failure-at',
  /**
   * Set when the dead-letter topic refused the whole record (e.g. larger than its
   * `max.message.bytes`) and only the cause and position were sent: why it was refused. The
   * payload is at `dlt-original-topic`/`-partition`/`-offset` until that topic's retention.
   */
  truncated: 'dlt-truncated',
} as const;

/** Marks a message re-published from a dead-letter topic: `<dlt topic>:<partition>:<offset>`. */
export const REPLAYED_FROM_HEADER = 'replayed-from';

/**
 * Headers of a replay marker: a record (its value says what it is: `{"replayOf": "<partition>:<offset>"}`) that `pnpm dlt replay` appends to a
 * dead-letter topic, in the partition of the record it replayed, once that record is back on its
 * original topic. The topic itself then says which dead letters wait for a person: the broker
 * monitor counts records without a marker (`dead_letter_messages`), and reads each replay's
 * duration from its markers (`dead_letter_replay_duration_seconds`).
 */
export const REPLAY_MARKER_HEADERS = {
  /** `<partition>:<offset>` of the replayed record on this dead-letter topic. */
  replayOf: 'replay-of',
  /** One id per replay run (every marker of a run carries it). */
  replayId: 'replay-id',
  /** Milliseconds from the start of the run to its last message sent. */
  durationMs: 'replay-duration-ms',
} as const;

export interface DeadLetterCause {
  consumer: string;
  topic: string;
  partition: number;
  offset: string;
  error: unknown;
  attempts: number;
  firstFailureAt: Date;
  lastFailureAt: Date;
}

export function deadLetterHeaders(original: IHeaders | undefined, cause: DeadLetterCause): IHeaders {
  const error = cause.error instanceof Error ? cause.error : new Error(String(cause.error));
  return {
    ...original,
    [DLT_HEADERS.originalTopic]: cause.topic,
    [DLT_HEADERS.originalPartition]: String(cause.partition),
    [DLT_HEADERS.originalOffset]: cause.offset,
    [DLT_HEADERS.consumer]: cause.consumer,
    [DLT_HEADERS.errorClass]: error.name || error.constructor.name,
    // Kafka headers have no hard limit, but a stack-sized header bloats every fetch of the topic.
    [DLT_HEADERS.errorMessage]: error.message.slice(0, 2000),
    [DLT_HEADERS.attempts]: String(cause.attempts),
    [DLT_HEADERS.firstFailureAt]: cause.firstFailureAt.toISOString(),
    [DLT_HEADERS.lastFailureAt]: cause.lastFailureAt.toISOString(),
  };
}
