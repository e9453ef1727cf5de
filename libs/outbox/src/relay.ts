import { setTimeout as sleep } from 'node:timers/promises';
import type { IHeaders, Kafka, Producer } from 'kafkajs';
import { encodeHeaders } from '@order-saga/contracts';
import pg from 'pg';
import { compressionCodecs, ensureTopics, type CompressionName } from './kafka.js';

/** Structured logger the relay reports to (pino's signature). */
export interface RelayLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RelayOptions {
  /** The service database holding the `outbox` table. */
  databaseUrl: string;
  kafka: Kafka;
  /** Rows claimed and sent per batch. */
  batchSize?: number;
  compression?: CompressionName;
  /** Fallback poll when no NOTIFY arrives (e.g. rows inserted by a tool without the trigger). */
  pollIntervalMs?: number;
  /** How often a standby tries to become the leader. */
  leaderRetryMs?: number;
  /** Published rows older than this are deleted. */
  retentionHours?: number;
  topicPartitions?: number;
  logger?: RelayLogger;
  /**
   * Failure-drill hook, run after the broker acknowledged a batch and before the rows are marked
   * published: the window in which a crash produces duplicates (never loss).
   */
  afterSend?: (rowCount: number) => Promise<void> | void;
}

interface OutboxRow {
  id: string;
  seq: string;
  aggregatetype: string;
  aggregateid: string;
  type: string;
  payload: string;
  topic: string;
  schema_version: number;
  correlation_id: string;
  causation_id: string | null;
  traceparent: string | null;
  tracestate: string | null;
  occurred_at: Date;
}

// Different constant per purpose keeps the lock from clashing with any other advisory lock a
// service might take. Advisory locks are scoped to the database, so each service has its own.
const LEADER_LOCK_KEY = 7_446_118_002;
const NOTIFY_CHANNEL = 'outbox';
const silent: RelayLogger = { info() {}, warn() {}, error() {} };

/**
 * Publishes committed outbox rows to Kafka, in `seq` order, and marks them published.
 *
 * - One relay per database is active: the leader holds a PostgreSQL advisory lock on its own
 *   connection; standbys retry, and take over when the leader's session ends (crash included).
 * - Rows are claimed as "unpublished, lowest seq first", never as "after the last id sent": ids
 *   are allocated before commit, so rows can commit out of id order and a cursor would skip them.
 * - A crash after the broker's ack and before the mark re-sends the batch: duplicates are
 *   possible, loss is not. Consumers de-duplicate by message id.
 * - Wakes on LISTEN/NOTIFY (the outbox trigger), with a fallback poll.
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly leaderRetryMs: number;
  private readonly log: RelayLogger;
  private stopping = false;
  private running?: Promise<void>;
  private client?: pg.Client;
  private producer?: Producer;
  private wake?: () => void;
  /** Set by NOTIFY; checked before idling so a notification that raced the last query counts. */
  private pendingWake = false;
  private leader = false;
  private lastPurge = 0;
  private published = 0;

  constructor(private readonly options: RelayOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.leaderRetryMs = options.leaderRetryMs ?? 1000;
    this.log = options.logger ?? silent;
  }

  /** Whether this instance currently holds the leader lock. */
  get isLeader(): boolean {
    return this.leader;
  }

  /** Whether the relay loop is running (as leader or standby) and not stopping. */
  get isRunning(): boolean {
    return this.running !== undefined && !this.stopping;
  }

  /** Rows this instance has published since it started. */
  get publishedCount(): number {
    return this.published;
  }

  /** Starts the relay loop in the background (as leader or standby) and returns at once. */
  start(): void {
    this.stopping = false;
    this.running ??= this.run().finally(() => (this.running = undefined));
  }

  /** Stops after the batch in flight; releases the leader lock by closing the session. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
  }

  private async run(): Promise<void> {
    let backoff = 200;
    while (!this.stopping) {
      try {
        await this.session();
        backoff = 200;
      } catch (error) {
        this.log.warn({ err: error }, 'outbox relay session failed; retrying');
        await this.closeSession();
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
    await this.closeSession();
  }

  /** One database session: become leader, then publish until stopped or the session breaks. */
  private async session(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.options.databaseUrl,
      application_name: 'outbox-relay',
    });
    this.client = client;
    let broken: Error | undefined;
    client.on('error', (error) => {
      broken = error;
      this.wake?.();
    });
    await client.connect();

    while (!this.stopping) {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [
        LEADER_LOCK_KEY,
      ]);
      if (rows[0]?.ok) break;
      await this.idle(this.leaderRetryMs);
      if (broken) throw broken;
    }
    if (this.stopping) return;
    this.leader = true;
    this.log.info({}, 'outbox relay is the leader for this database');

    client.on('notification', () => {
      this.pendingWake = true;
      this.wake?.();
    });
    await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
    // A plan made while the table was empty keeps scanning it sequentially as it grows.
    await client.query('ANALYZE outbox');

    this.producer = this.options.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await this.producer.connect();

    await this.pump(client, this.producer, () => broken);
  }

  /**
   * Publishes in a pipeline: batch N+1 is claimed while N is in flight, and N is marked while N+1 is
   * in flight, so database time hides behind broker time. Sends never overlap: N+1 goes out only
   * after the broker acknowledged N, which keeps each aggregate's order, and a failed send stops the
   * pipeline before anything after it is sent. Unmarked rows are re-sent by the next session.
   */
  private async pump(client: pg.Client, producer: Producer, broken: () => Error | undefined): Promise<void> {
    let inFlight: { seqs: string[]; sent: Promise<void> } | undefined;
    while (!this.stopping || inFlight) {
      const failure = broken();
      if (failure) throw failure;
      this.pendingWake = false;
      // Rows of the batch in flight are still unpublished: leave them out, not "after the last seq",
      // so a row that committed late with a lower seq is still picked up, first.
      const rows = this.stopping ? [] : await this.claim(client, inFlight?.seqs ?? []);
      const previous = inFlight;
      if (previous) {
        await previous.sent;
        await this.options.afterSend?.(previous.seqs.length);
      }
      inFlight = rows.length > 0 ? this.send(producer, rows) : undefined;
      if (previous) {
        await client.query('UPDATE outbox SET published_at = now() WHERE seq = ANY($1::bigint[])', [
          previous.seqs,
        ]);
        this.published += previous.seqs.length;
      }
      if (!inFlight && !previous) {
        await this.purgeIfDue(client);
        await this.idle(this.pollIntervalMs);
      }
    }
  }

  private async claim(client: pg.Client, inFlight: string[]): Promise<OutboxRow[]> {
    const { rows } = await client.query<OutboxRow>(
      `SELECT id, seq, aggregatetype, aggregateid, type, payload::text AS payload, topic, schema_version,
              correlation_id, causation_id, traceparent, tracestate, occurred_at
         FROM outbox WHERE published_at IS NULL AND seq <> ALL($2::bigint[]) ORDER BY seq LIMIT $1`,
      [this.batchSize, inFlight],
    );
    return rows;
  }

  private send(producer: Producer, rows: OutboxRow[]): { seqs: string[]; sent: Promise<void> } {
    const byTopic = new Map<string, OutboxRow[]>();
    for (const row of rows) {
      const list = byTopic.get(row.topic);
      if (list) list.push(row);
      else byTopic.set(row.topic, [row]);
    }
    const sent = (async () => {
      await ensureTopics(this.options.kafka, [...byTopic.keys()], this.options.topicPartitions);
      // Within one send, kafkajs keeps each partition's messages in the order given; the idempotent
      // producer (one request in flight) keeps that order across retries.
      await producer.sendBatch({
        acks: -1,
        compression: compressionCodecs[this.options.compression ?? 'none'],
        topicMessages: [...byTopic].map(([topic, topicRows]) => ({
          topic,
          messages: topicRows.map((row) => ({
            key: row.aggregateid,
            value: row.payload,
            headers: headersOf(row),
          })),
        })),
      });
    })();
    // Awaited by the pump; this only keeps an early failure from being reported as unhandled.
    sent.catch(() => undefined);
    return { seqs: rows.map((r) => r.seq), sent };
  }

  private async purgeIfDue(client: pg.Client): Promise<void> {
    const now = Date.now();
    if (now - this.lastPurge < 60_000) return;
    this.lastPurge = now;
    const hours = this.options.retentionHours ?? 24;
    const { rowCount } = await client.query(
      `DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < now() - make_interval(hours => $1)`,
      [hours],
    );
    if (rowCount) this.log.info({ deleted: rowCount, retentionHours: hours }, 'purged published outbox rows');
  }

  /** Waits for a NOTIFY, a stop, a broken session, or the timeout. */
  private idle(ms: number): Promise<void> {
    if (this.pendingWake || this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  private async closeSession(): Promise<void> {
    if (this.leader) this.log.info({}, 'outbox relay gave up leadership');
    this.leader = false;
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
    // Ending the session releases the advisory lock, so a standby can take over at once.
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }
}

/** Kafka headers of a row, as `@order-saga/contracts` encodes and decodes them. */
function headersOf(row: OutboxRow): IHeaders {
  return encodeHeaders({
    messageId: row.id,
    type: row.type,
    schemaVersion: row.schema_version,
    occurredAt: row.occurred_at.toISOString(),
    aggregateType: row.aggregatetype,
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    traceparent: row.traceparent,
    tracestate: row.tracestate,
  });
}
