import { randomUUID } from 'node:crypto';
import { fromKafkaMessage } from '@order-saga/contracts';
import { OutboxRelay } from '@order-saga/outbox';
import { waitFor } from '@order-saga/testing';
import type { IHeaders } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scenario, type Scenario } from '../messaging/scenario.js';
import { captureOutbox } from './cdc.js';

interface RawRecord {
  key: string;
  value: string;
  headers: Record<string, string | null>;
}

/** Header values as bytes on the wire (hex), so the comparison is byte for byte. */
function rawHeaders(headers: IHeaders | undefined): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const one = Array.isArray(value) ? value[0] : value;
    out[name] = one == null ? null : Buffer.from(one).toString('hex');
  }
  return out;
}

describe('Debezium relay wire format', () => {
  let s: Scenario;
  let release: () => Promise<void>;
  let relay: OutboxRelay | undefined;

  beforeAll(async () => {
    s = await scenario('dbz_wire');
    release = await captureOutbox(s.databaseName);
  });
  afterAll(async () => {
    await relay?.stop();
    await release?.();
    await s?.dispose();
  });

  it('publishes each outbox row exactly as the in-process relay does: topic, key, headers byte for byte, same payload', async () => {
    // The same rows published by both relays: Debezium from the WAL, the relay from the table.
    const rows = [
      // every optional header present; an occurred_at whose milliseconds end in zeros
      {
        id: randomUUID(),
        causation: randomUUID(),
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        tracestate: 'vendor=a,other=b',
        occurredAt: '2026-12-02T01:02:03.100Z',
      },
      // no optional header; whole seconds
      {
        id: randomUUID(),
        causation: null,
        traceparent: null,
        tracestate: null,
        occurredAt: '2026-12-02T01:02:03.000Z',
      },
    ];
    const client = new pg.Client({ connectionString: s.databaseUrl });
    await client.connect();
    try {
      for (const row of rows)
        await client.query(
          `INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, topic, schema_version,
                               correlation_id, causation_id, traceparent, tracestate, occurred_at)
           VALUES ($1, 'Ledger', 'acct-1', 'LedgerEntryRecorded', $2::jsonb, $3, 1, $4, $5, $6, $7, $8)`,
          [
            row.id,
            // The contract's fields; a note with non-ASCII and quotes, as PostgreSQL re-prints it.
            JSON.stringify({ aggregateId: 'acct-1', seq: 7, note: 'é ü "q" \\ / \u2028' }),
            s.topic,
            randomUUID(),
            row.causation,
            row.traceparent,
            row.tracestate,
            row.occurredAt,
          ],
        );
    } finally {
      await client.end();
    }
    const byDebezium = await collect(s, rows.length);
    relay = new OutboxRelay({ databaseUrl: s.databaseUrl, kafka: s.kafka, pollIntervalMs: 200 });
    relay.start();
    const all = await collect(s, rows.length * 2);
    const byRelay = all.filter((r) => !byDebezium.some((d) => d === r)).slice(-rows.length);

    for (const row of rows) {
      const dbz = byDebezium.find((r) => r.headers.id === Buffer.from(row.id).toString('hex'))!;
      const rel = all.filter((r) => r.headers.id === Buffer.from(row.id).toString('hex')).at(-1)!;
      expect(dbz, `Debezium record of ${row.id}`).toBeDefined();
      expect(rel).not.toBe(dbz);
      expect(dbz.key).toBe(rel.key);
      // Byte for byte in every header the relay writes. Debezium also sends the NULL columns
      // (causation-id, traceparent, tracestate of a first message) as headers without a value,
      // which the relay leaves out; fromKafkaMessage reads both alike.
      const valued = Object.fromEntries(Object.entries(dbz.headers).filter(([, v]) => v !== null));
      expect(valued).toEqual(rel.headers);
      const nulls = Object.keys(dbz.headers).filter((name) => dbz.headers[name] === null);
      expect(nulls.sort()).toEqual(
        ['causation-id', 'traceparent', 'tracestate'].filter((name) => !(name in rel.headers)).sort(),
      );
      // Same JSON, not the same bytes: PostgreSQL prints jsonb with a space after ':' and ','.
      expect(JSON.parse(dbz.value)).toEqual(JSON.parse(rel.value));
      expect(fromKafkaMessage({ key: dbz.key, value: dbz.value, headers: decode(dbz.headers) }).ok).toBe(
        true,
      );
    }
    expect(byRelay).toHaveLength(rows.length);
  });
});

function decode(headers: Record<string, string | null>): Record<string, Buffer> {
  return Object.fromEntries(
    Object.entries(headers)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, Buffer.from(v!, 'hex')]),
  );
}

/** Reads the scenario's topic from the start until it holds `count` records. */
async function collect(s: Scenario, count: number): Promise<RawRecord[]> {
  const records: RawRecord[] = [];
  const consumer = s.kafka.consumer({ groupId: `wire-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [s.topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ message }) => {
      records.push({
        key: message.key?.toString() ?? '',
        value: message.value?.toString() ?? '',
        headers: rawHeaders(message.headers),
      });
    },
  });
  try {
    await waitFor(() => records.length >= count, {
      timeoutMs: 60_000,
      intervalMs: 100,
      message: () => `${s.topic}: ${records.length} of ${count} records`,
    });
    return records;
  } finally {
    await consumer.disconnect();
  }
}
