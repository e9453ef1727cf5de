import { randomUUID } from 'node:crypto';
import { createEnvelope, toKafkaMessage, wireHeaders, type LedgerEntryRecorded } from '@order-saga/contracts';
import type { IHeaders, Message } from 'kafkajs';

/** Size of every message value on the wire, in bytes: a mid-sized domain event. */
export const PAYLOAD_BYTES = 330;
/** Message keys spread over this many aggregates, so all 3 partitions carry traffic. */
export const AGGREGATES = 1000;

/**
 * How the payload will be printed on the wire. The raw producer sends `JSON.stringify` output;
 * the relay sends PostgreSQL's `jsonb::text`, which puts a space after each of the 3 colons and 2
 * commas, so the same entry needs a note 5 bytes shorter to be {@link PAYLOAD_BYTES} long there.
 */
export type PayloadForm = 'json' | 'jsonb';
const JSONB_EXTRA_BYTES = 5;

/** The n-th ledger entry: aggregate `agg-<n mod 1000>`, padded through its `note` to the wire size. */
export function ledgerEntry(n: number, form: PayloadForm): LedgerEntryRecorded {
  const aggregateId = `agg-${n % AGGREGATES}`;
  const entry = { aggregateId, seq: Math.floor(n / AGGREGATES) + 1, note: '' };
  const target = PAYLOAD_BYTES - (form === 'jsonb' ? JSONB_EXTRA_BYTES : 0);
  entry.note = 'x'.repeat(target - Buffer.byteLength(JSON.stringify(entry)));
  return entry;
}

/**
 * `count` valid `LedgerEntryRecorded` messages with the headers the relay would put on them (so a
 * `KafkaInboxTransport` accepts them), built before any clock starts.
 */
export function ledgerKafkaMessages(count: number): Message[] {
  return Array.from({ length: count }, (_, n) => {
    const entry = ledgerEntry(n, 'json');
    const message = toKafkaMessage(
      createEnvelope('LedgerEntryRecorded', entry, { correlationId: randomUUID() }),
    );
    if (Buffer.byteLength(message.value) !== PAYLOAD_BYTES) {
      throw new Error(
        `bench bug: payload is ${Buffer.byteLength(message.value)} bytes, not ${PAYLOAD_BYTES}`,
      );
    }
    return message;
  });
}

/** The message id a message carries in its `id` header. */
export function messageIdOf(headers: IHeaders | undefined): string {
  const raw = headers?.[wireHeaders.messageId];
  return String(Array.isArray(raw) ? raw[0] : raw);
}
