import { createReadStream, createWriteStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { maskPii, topicName, wireHeaders } from '@order-saga/contracts';
import { ensureTopics } from '@order-saga/outbox';
import type { IHeaders, Kafka } from 'kafkajs';

/** The first line of a slice file. */
export interface SliceMeta {
  format: 'order-saga-topics/1';
  exportedAt: string;
  /** The prefix the records were read under (not written into the records' topics). */
  sourcePrefix: string;
  /** Un-prefixed topic → partition count. */
  topics: Record<string, number>;
  /** PII masked with a salt known only to the exporter. */
  masked: boolean;
}

/** One Kafka record of a slice, with its original position. */
export interface SliceRecord {
  /** Un-prefixed topic, e.g. `payment.events`. */
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: string | null;
  headers: Record<string, string | string[]>;
  value: string | null;
}

export interface ExportOptions {
  kafka: Kafka;
  /** Un-prefixed topics. */
  topics: readonly string[];
  prefix?: string;
  /** Records at or after this time (broker timestamp); default: the earliest retained. */
  from?: Date;
  /** Records before this time; default: everything up to the export's start. */
  to?: Date;
  out: string;
  /** Default true: PII fields named in the contracts are replaced by pseudonyms. */
  mask?: boolean;
  onProgress?: (written: number, total: number) => void;
}

/**
 * Writes a slice of topics to a gzipped JSON-lines file: a {@link SliceMeta} line, then one
 * {@link SliceRecord} per record, each partition in offset order. Keys, headers, values and
 * positions are kept; with `mask` (the default) the payload fields `piiFields` names are replaced
 * by salted pseudonyms, the same pseudonym for the same value throughout the file.
 */
export async function exportSlice(options: ExportOptions): Promise<{ records: number }> {
  const prefix = options.prefix ?? '';
  const mask = options.mask ?? true;
  const salt = randomBytes(16).toString('hex');
  const admin = options.kafka.admin();
  await admin.connect();
  const ranges = new Map<string, { start: bigint; end: bigint }>();
  const partitionCounts: Record<string, number> = {};
  try {
    for (const key of options.topics) {
      const topic = topicName(key as never, prefix);
      const ends = await admin.fetchTopicOffsets(topic);
      partitionCounts[key] = ends.length;
      const starts = options.from ? await admin.fetchTopicOffsetsByTimestamp(topic, options.from.getTime()) : null;
      const stops = options.to ? await admin.fetchTopicOffsetsByTimestamp(topic, options.to.getTime()) : null;
      for (const end of ends) {
        const at = (list: { partition: number; offset: string }[] | null, fallback: string) => {
          const found = list?.find((p) => p.partition === end.partition)?.offset;
          return BigInt(found === undefined || Number(found) < 0 ? fallback : found);
        };
        const start = at(starts, end.low);
        const stop = at(stops, end.high);
        if (stop > start) ranges.set(`${topic}:${end.partition}`, { start, end: stop });
      }
    }
  } finally {
    await admin.disconnect();
  }
  const total = Number([...ranges.values()].reduce((sum, r) => sum + (r.end - r.start), 0n));
  const meta: SliceMeta = {
    format: 'order-saga-topics/1',
    exportedAt: new Date().toISOString(),
    sourcePrefix: prefix,
    topics: partitionCounts,
    masked: mask,
  };
  const lines: string[] = [JSON.stringify(meta)];
  let written = 0;
  if (ranges.size > 0) {
    const consumer = options.kafka.consumer({ groupId: `${prefix}topics-export-${randomBytes(4).toString('hex')}` });
    await consumer.connect();
    await consumer.subscribe({ topics: [...new Set([...ranges.keys()].map((k) => k.slice(0, k.lastIndexOf(':'))))], fromBeginning: true });
    const open = new Set(ranges.keys());
    await new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.GROUP_JOIN, () => {
        for (const [k, r] of ranges) {
          const at = k.lastIndexOf(':');
          consumer.seek({ topic: k.slice(0, at), partition: Number(k.slice(at + 1)), offset: r.start.toString() });
        }
      });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const k = `${batch.topic}:${batch.partition}`;
            const range = ranges.get(k);
            if (!range || !open.has(k)) return;
            let reached = -1n;
            for (const m of batch.messages) {
              const offset = BigInt(m.offset);
              reached = offset;
              if (offset < range.start) continue;
              if (offset >= range.end) break;
              const headers = textHeaders(m.headers);
              let value = m.value?.toString('utf8') ?? null;
              const type = headers[wireHeaders.type];
              if (mask && value !== null && typeof type === 'string') {
                try {
                  value = JSON.stringify(maskPii(type, JSON.parse(value), salt));
                } catch {
                  // Not JSON: nothing the contracts could name as PII; exported as it is.
                }
              }
              const record: SliceRecord = {
                topic: batch.topic.slice(prefix.length),
                partition: batch.partition,
                offset: m.offset,
                timestamp: m.timestamp,
                key: m.key?.toString('utf8') ?? null,
                headers,
                value,
              };
              lines.push(JSON.stringify(record));
              written++;
              options.onProgress?.(written, total);
            }
            // Judged from the records seen, not batch.lastOffset(): a batch emptied by a seek
            // still reports the offsets it was fetched with.
            if (reached + 1n >= range.end) {
              open.delete(k);
              if (open.size === 0) resolve();
            }
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
  }
  await pipeline(
    Readable.from(lines.map((line) => `${line}\n`)),
    createGzip(),
    createWriteStream(options.out),
  );
  return { records: written };
}

export interface ImportOptions {
  kafka: Kafka;
  file: string;
  /** Topic prefix to write under, e.g. `dev.`. */
  prefix?: string;
  onProgress?: (written: number) => void;
}

/**
 * Replays a slice into topics under `prefix`: every record to the same partition number, in its
 * original order, with its key, headers, value and timestamp. Topics are created with the slice's
 * partition counts, so keys land where they did.
 */
export async function importSlice(options: ImportOptions): Promise<{ records: number; meta: SliceMeta }> {
  const prefix = options.prefix ?? '';
  const input = createInterface({ input: createReadStream(options.file).pipe(createGunzip()), crlfDelay: Infinity });
  let meta: SliceMeta | undefined;
  const byPartition = new Map<string, SliceRecord[]>();
  for await (const line of input) {
    if (!line) continue;
    if (!meta) {
      meta = JSON.parse(line) as SliceMeta;
      if (meta.format !== 'order-saga-topics/1') throw new Error(`${options.file} is not a topics slice (format ${meta.format})`);
      continue;
    }
    const record = JSON.parse(line) as SliceRecord;
    const k = `${record.topic}:${record.partition}`;
    const list = byPartition.get(k);
    if (list) list.push(record);
    else byPartition.set(k, [record]);
  }
  if (!meta) throw new Error(`${options.file} is empty`);
  for (const [topic, partitions] of Object.entries(meta.topics)) {
    await ensureTopics(options.kafka, [`${prefix}${topic}`], partitions);
  }
  const producer = options.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let written = 0;
  try {
    for (const records of byPartition.values()) {
      records.sort((a, b) => Number(BigInt(a.offset) - BigInt(b.offset)));
      for (let i = 0; i < records.length; i += 500) {
        const chunk = records.slice(i, i + 500);
        await producer.send({
          topic: `${prefix}${chunk[0]!.topic}`,
          acks: -1,
          messages: chunk.map((r) => ({
            partition: r.partition,
            key: r.key,
            value: r.value,
            timestamp: r.timestamp,
            headers: r.headers as IHeaders,
          })),
        });
        written += chunk.length;
        options.onProgress?.(written);
      }
    }
  } finally {
    await producer.disconnect();
  }
  return { records: written, meta };
}

function textHeaders(headers: IHeaders | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.map((v) => v.toString()) : value.toString();
  }
  return out;
}
