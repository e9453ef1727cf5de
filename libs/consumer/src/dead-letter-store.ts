import { randomUUID } from 'node:crypto';
import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { DLT_HEADERS, REPLAYED_FROM_HEADER, REPLAY_MARKER_HEADERS } from './dead-letter.js';

/** Group ids of the short-lived readers of dead-letter topics start with this (lag monitors skip them). */
export const DEAD_LETTER_READER_GROUP_PREFIX = 'dlt-reader-';

/** One message on a dead-letter topic, with the cause recorded by the transport. */
export interface DeadLetterRecord {
  dltTopic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  messageId?: string;
  type?: string;
  originalTopic: string;
  originalPartition: number;
  originalOffset: string;
  errorClass: string;
  errorMessage: string;
  attempts: number;
  firstFailureAt: string;
  lastFailureAt: string;
  /** A replay marker on this topic names this record: `pnpm dlt replay` sent it back already. */
  replayed: boolean;
}

/** One run of `pnpm dlt replay` that touched a dead-letter topic, from its markers there. */
export interface ReplayRun {
  id: string;
  durationMs: number;
  /** When the first marker of the run on this topic was written (broker timestamp, ms). */
  at: number;
}

/** A dead-letter topic's state: records not replayed yet, and the replay runs seen on it. */
export interface DeadLetterSummary {
  waiting: number;
  runs: ReplayRun[];
}

export interface DeadLetterFilter {
  type?: string;
  aggregateId?: string;
  messageId?: string;
  /** `<partition>:<offset>` on the dead-letter topic. */
  position?: string;
  /** Leave out records already replayed. */
  notReplayed?: boolean;
}

/** Whether a dead letter matches a filter (the CLI's and the console's). */
export function matchesDeadLetter(record: DeadLetterRecord, filter: DeadLetterFilter): boolean {
  return (
    (!filter.type || record.type === filter.type) &&
    (!filter.aggregateId || record.key === filter.aggregateId) &&
    (!filter.messageId || record.messageId === filter.messageId) &&
    (!filter.position || `${record.partition}:${record.offset}` === filter.position) &&
    (!filter.notReplayed || !record.replayed)
  );
}

/** A record of a dead-letter topic with its cause headers read (not yet marked replayed). */
export function deadLetterRecordOf(
  dltTopic: string,
  partition: number,
  message: Pick<KafkaMessage, 'offset' | 'key' | 'value'>,
  headers: Record<string, string>,
): DeadLetterRecord {
  return {
    dltTopic,
    partition,
    offset: message.offset,
    key: message.key?.toString() ?? null,
    value: message.value?.toString() ?? null,
    headers,
    messageId: headers.id,
    type: headers.type,
    originalTopic: headers[DLT_HEADERS.originalTopic] ?? '',
    originalPartition: Number(headers[DLT_HEADERS.originalPartition] ?? -1),
    originalOffset: headers[DLT_HEADERS.originalOffset] ?? '',
    errorClass: headers[DLT_HEADERS.errorClass] ?? '',
    errorMessage: headers[DLT_HEADERS.errorMessage] ?? '',
    attempts: Number(headers[DLT_HEADERS.attempts] ?? 0),
    firstFailureAt: headers[DLT_HEADERS.firstFailureAt] ?? '',
    lastFailureAt: headers[DLT_HEADERS.lastFailureAt] ?? '',
    replayed: false,
  };
}

/** Header values as text, the first of a repeated header. */
export function headerText(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = first.toString();
  }
  return out;
}

/**
 * Reads a dead-letter topic from its start to its current end, without joining a consumer group
 * that would record progress: listing never changes what the next listing shows.
 */
export async function readDeadLetters(
  kafka: Kafka,
  dltTopic: string,
  filter: DeadLetterFilter = {},
): Promise<DeadLetterRecord[]> {
  const { records } = await readTopic(kafka, dltTopic);
  return records.filter((r) => matchesDeadLetter(r, filter));
}

/**
 * How many records of a dead-letter topic wait for a person (no replay marker names them), and
 * the replay runs its markers record. Reads the whole topic, like {@link readDeadLetters}.
 */
export async function summarizeDeadLetters(kafka: Kafka, dltTopic: string): Promise<DeadLetterSummary> {
  const { records, markers } = await readTopic(kafka, dltTopic);
  const runs = new Map<string, ReplayRun>();
  for (const marker of markers) {
    const id = marker.headers[REPLAY_MARKER_HEADERS.replayId];
    if (id === undefined || runs.has(id)) continue;
    runs.set(id, {
      id,
      durationMs: Number(marker.headers[REPLAY_MARKER_HEADERS.durationMs] ?? 0),
      at: marker.timestamp,
    });
  }
  return { waiting: records.filter((r) => !r.replayed).length, runs: [...runs.values()] };
}

interface Marker {
  headers: Record<string, string>;
  timestamp: number;
}

async function readTopic(
  kafka: Kafka,
  dltTopic: string,
): Promise<{ records: DeadLetterRecord[]; markers: Marker[] }> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `${DEAD_LETTER_READER_GROUP_PREFIX}${randomUUID()}`;
  try {
    const ends = (await admin.fetchTopicOffsets(dltTopic)).filter((p) => BigInt(p.high) > BigInt(p.low));
    if (ends.length === 0) return { records: [], markers: [] };
    const remaining = new Map(ends.map((p) => [p.partition, BigInt(p.high)]));
    const records: DeadLetterRecord[] = [];
    const markers: Marker[] = [];
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
    await consumer.connect();
    await consumer.subscribe({ topics: [dltTopic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const end = remaining.get(partition);
            if (end === undefined || BigInt(message.offset) >= end) return;
            const headers = headerText(message.headers);
            if (headers[REPLAY_MARKER_HEADERS.replayOf] !== undefined)
              markers.push({ headers, timestamp: Number(message.timestamp) });
            else
              records.push(deadLetterRecordOf(dltTopic, partition, message, headers));
            if (BigInt(message.offset) + 1n >= end) remaining.delete(partition);
            if (remaining.size === 0) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    const replayed = new Set(markers.map((m) => m.headers[REPLAY_MARKER_HEADERS.replayOf]));
    for (const r of records) r.replayed = replayed.has(`${r.partition}:${r.offset}`);
    records.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
    return { records, markers };
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

/**
 * Publishes dead-lettered messages back to their original topics with their original key, value
 * and headers, then appends a replay marker per record to its dead-letter topic (see
 * `REPLAY_MARKER_HEADERS`), so the message id is unchanged: the consumer's inbox applies a replayed message at
 * most once, however often it is replayed. The `replayed-from` header it adds is what lets the
 * inbox apply a message whose row says it was dead-lettered. Refuses truncated records (see
 * `DLT_HEADERS.truncated`) before sending anything.
 */
export async function replayDeadLetters(
  kafka: Kafka,
  records: readonly DeadLetterRecord[],
  /** When the run began (e.g. before the records were read), for the duration its markers carry. */
  startedAt = Date.now(),
): Promise<number> {
  if (records.length === 0) return 0;
  const truncated = records.filter((r) => r.headers[DLT_HEADERS.truncated] !== undefined);
  if (truncated.length > 0) {
    throw new Error(
      `cannot replay truncated dead letters (the dead-letter topic refused the whole record, so its payload is not there): ${truncated
        .map(
          (r) =>
            `${r.dltTopic} ${r.partition}:${r.offset} (original at ${r.originalTopic}[${r.originalPartition}]@${r.originalOffset}: ${r.headers[DLT_HEADERS.truncated]})`,
        )
        .join('; ')}`,
    );
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const dltHeaderNames = new Set<string>(Object.values(DLT_HEADERS));
    for (const record of records) {
      const headers = Object.fromEntries(
        Object.entries(record.headers).filter(([name]) => !dltHeaderNames.has(name)),
      );
      headers[REPLAYED_FROM_HEADER] = `${record.dltTopic}:${record.partition}:${record.offset}`;
      await producer.send({
        topic: record.originalTopic,
        acks: -1,
        messages: [{ key: record.key, value: record.value, headers }],
      });
    }
    // Only once every record is back on its topic: a run cut short leaves its records counted.
    const run = {
      [REPLAY_MARKER_HEADERS.replayId]: randomUUID(),
      [REPLAY_MARKER_HEADERS.durationMs]: String(Date.now() - startedAt),
    };
    for (const record of records) {
      await producer.send({
        topic: record.dltTopic,
        acks: -1,
        messages: [
          {
            partition: record.partition,
            key: record.key,
            // Self-describing for whoever browses the topic (a Kafka UI, a JSON reader).
            value: JSON.stringify({ replayOf: `${record.partition}:${record.offset}` }),
            headers: { ...run, [REPLAY_MARKER_HEADERS.replayOf]: `${record.partition}:${record.offset}` },
          },
        ],
      });
    }
    return records.length;
  } finally {
    await producer.disconnect();
  }
}
