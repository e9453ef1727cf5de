import { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IHeaders, Kafka, Message, Producer } from 'kafkajs';
import { encodeHeaders } from '@order-saga/contracts';
import { meter } from '@order-saga/telemetry';
import pg from 'pg';
import {
  brokerMessageMaxBytes,
  compressionCodecs,
  ensureTopics,
  isPermanentKafkaError,
  KAFKA_DEFAULT_MESSAGE_MAX_BYTES,
  type CompressionName,
} from './kafka.js';
import { purgeInBatches } from './purge.js';

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
  /**
   * Upper bound on the bytes of one batch (keys, values and headers). The relay uses the smaller
   * of this and 95% of the broker's `message.max.bytes` (read at start). A single row above the
   * bound is parked rather than sent. Default 1,000,000.
   */
  maxBatchBytes?: number;
  compression?: CompressionName;
  /** Fallback poll when no NOTIFY arrives (e.g. rows inserted by a tool without the trigger). */
  pollIntervalMs?: number;
  /** How often a standby tries to become the leader. */
  leaderRetryMs?: number;
  /**
   * How long the leader's database session may go unheard before it counts as dead: the server
   * ends the session (and so releases the leader lock) after this much silence, and the leader
   * stops publishing once its own lock check has failed for half of it. A standby takes over
   * within about this time plus `leaderRetryMs`. Default 10,000.
   */
  leaderSessionTimeoutMs?: number;
  /** Published rows older than this are deleted. Default 24. */
  retentionHours?: number;
  /** How often the leader purges published rows. Default 60,000. */
  purgeIntervalMs?: number;
  /** Rows deleted per purge statement; a purge runs statements until none is full. Default 1,000. */
  purgeBatchSize?: number;
  topicPartitions?: number;
  /** `retention.ms` of the topics the relay creates, in hours. Default 168. */
  topicRetentionHours?: number;
  /** Replicas of the topics the relay creates. Default: the broker's `default.replication.factor`. */
  topicReplicationFactor?: number;
  logger?: RelayLogger;
  /**
   * Failure-drill hook, run after the broker acknowledged a batch and before the rows are marked
   * published: the window in which a crash produces duplicates (never loss). `holdAfterSend`
   * (fault-hook.ts) is the one the services install when a drill asks for it.
   */
  afterSend?: (batch: AcknowledgedBatch) => Promise<void> | void;
}

/** A batch the broker acknowledged, not yet marked published: its rows' message ids and seqs. */
export interface AcknowledgedBatch {
  messageIds: readonly string[];
  seqs: readonly string[];
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

interface Parked {
  row: OutboxRow;
  reason: string;
}

/** What became of a batch: rows the broker acknowledged, rows parked, the rest left for later. */
interface SendResult {
  published: OutboxRow[];
  parked: Parked[];
}

// Different constant per purpose keeps the lock from clashing with any other advisory lock a
// service might take. Advisory locks are scoped to the database, so each service has its own.
const LEADER_LOCK_KEY = 7_446_118_002n;
const NOTIFY_CHANNEL = 'outbox';
const silent: RelayLogger = { info() {}, warn() {}, error() {} };
// Bytes of record and header framing per message on top of key, value and header contents (an
// over-estimate of Kafka's varint framing, so the byte cap errs on the safe side).
const RECORD_OVERHEAD = 64;
const HEADER_OVERHEAD = 8;

const relayMeter = meter('@order-saga/outbox');
const parkedTotal = relayMeter.createCounter('outbox_rows_parked_total', {
  description: 'outbox rows the relay parked because the broker can never accept them',
});
const publishedTotal = relayMeter.createCounter('outbox_published_total', {
  description: 'Outbox rows the broker acknowledged and the relay marked published',
});
const publishFailures = relayMeter.createCounter('outbox_publish_failures_total', {
  description:
    'Produce requests of the relay that failed (retriable: the batch is re-sent; permanent: rows parked)',
});
// Exported at 0 from the start: a counter that appears only at its first failure hides from
// rate() and from anyone checking that the figure exists.
publishedTotal.add(0);
publishFailures.add(0);
const batchRows = relayMeter.createHistogram('outbox_publish_batch_size', {
  description: 'Rows per produce request of the relay',
  // Rows, not seconds: the SDK's default buckets are made for milliseconds.
  advice: { explicitBucketBoundaries: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] },
});

/**
 * Publishes committed outbox rows to Kafka, in `seq` order, and marks them published.
 *
 * - One relay per database is active: the leader holds a PostgreSQL advisory lock on its own
 *   connection; standbys retry, and take over when the leader's session ends (crash included).
 *   A session that goes silent (a half-open TCP connection) is ended by the server after
 *   `leaderSessionTimeoutMs` (`idle_session_timeout`, set for the relay's sessions only), and the
 *   leader abdicates before that once it cannot confirm its lock: leadership never hangs on TCP.
 * - Rows are claimed as "unpublished, lowest seq first", never as "after the last id sent": ids
 *   are allocated before commit, so rows can commit out of id order and a cursor would skip them.
 * - A crash after the broker's ack and before the mark re-sends the batch: duplicates are
 *   possible, loss is not. Consumers de-duplicate by message id.
 * - A row the broker can never accept (too large, refused as invalid or unauthorised) is parked
 *   (`parked_at`, `parked_reason`) instead of blocking the outbox; later rows of the SAME aggregate
 *   wait behind it until an operator resolves it (`pnpm outbox parked|unpark|discard`), so one
 *   aggregate's order is never broken.
 * - Published rows older than `retentionHours` are purged on a timer, in bounded statements.
 * - Wakes on LISTEN/NOTIFY (the outbox trigger), with a fallback poll.
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly leaderRetryMs: number;
  private readonly sessionTimeoutMs: number;
  private readonly log: RelayLogger;
  private stopping = false;
  private running?: Promise<void>;
  private client?: pg.Client;
  private socket?: Socket;
  private sessionDone?: AbortController;
  private producer?: Producer;
  private wake?: () => void;
  /** Set by NOTIFY; checked before idling so a notification that raced the last query counts. */
  private pendingWake = false;
  private leader = false;
  private published = 0;
  private maxBatchBytes: number;

  constructor(private readonly options: RelayOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.sessionTimeoutMs = options.leaderSessionTimeoutMs ?? 10_000;
    // A standby's session is ended by the server when it stays silent for the session timeout.
    this.leaderRetryMs = Math.min(options.leaderRetryMs ?? 1000, this.sessionTimeoutMs / 3);
    this.maxBatchBytes = options.maxBatchBytes ?? 1_000_000;
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
    const timeout = this.sessionTimeoutMs;
    const client = new pg.Client({
      connectionString: this.options.databaseUrl,
      application_name: 'outbox-relay',
      connectionTimeoutMillis: timeout,
      keepAlive: true,
      keepAliveInitialDelayMillis: Math.ceil(timeout / 2),
      options: serverSessionOptions(timeout),
      // Our own socket, so a session can be torn down even when the peer no longer answers (a
      // graceful `end()` waits for the server's reply, which on a dead path never comes).
      stream: () => (this.socket = new Socket()),
    });
    this.client = client;
    const done = new AbortController();
    this.sessionDone = done;
    let broken: Error | undefined;
    const breakSession = (error: Error) => {
      broken ??= error;
      this.wake?.();
    };
    client.on('error', breakSession);
    await client.connect();

    while (!this.stopping) {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [
        String(LEADER_LOCK_KEY),
      ]);
      if (rows[0]?.ok) break;
      await this.idle(this.leaderRetryMs);
      if (broken) throw broken;
    }
    if (this.stopping) return;
    this.leader = true;
    this.log.info({ sessionTimeoutMs: timeout }, 'outbox relay is the leader for this database');
    void this.watchLease(client, done.signal, (error) => {
      if (!this.leader) return;
      this.log.error({ err: error }, 'outbox relay cannot confirm its leader lock; abdicating');
      // Stop at once: no more claims or sends on this session, whatever the socket does.
      this.leader = false;
      breakSession(error);
      this.socket?.destroy();
    });

    client.on('notification', () => {
      this.pendingWake = true;
      this.wake?.();
    });
    await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
    // A plan made while the table was empty keeps scanning it sequentially as it grows, so the
    // table must have statistics: provisioning ANALYZEs it as the migrator (the runtime role this
    // session runs as may not, on PostgreSQL 15), and autovacuum keeps them current afterwards.

    const brokerLimit = (await brokerMessageMaxBytes(this.options.kafka)) ?? KAFKA_DEFAULT_MESSAGE_MAX_BYTES;
    this.maxBatchBytes = Math.min(this.options.maxBatchBytes ?? 1_000_000, Math.floor(brokerLimit * 0.95));
    await this.renewProducer();

    void this.housekeep(client, done.signal);
    await this.pump(client, () => broken);
  }

  /**
   * Confirms every fifth of the session timeout that this session still holds the leader lock,
   * each check bounded by half the timeout. The checks also keep the session from idling out.
   */
  private async watchLease(
    client: pg.Client,
    signal: AbortSignal,
    lost: (error: Error) => void,
  ): Promise<void> {
    const every = this.sessionTimeoutMs / 5;
    const deadline = this.sessionTimeoutMs / 2;
    while (!signal.aborted) {
      if (!(await sleep(every, true, { signal }).catch(() => false))) return;
      try {
        const { rows } = await withDeadline(
          client.query<{ held: boolean }>(
            `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
                AND pid = pg_backend_pid() AND classid = $1::oid AND objid = $2::oid AND objsubid = 1) AS held`,
            [String(LEADER_LOCK_KEY >> 32n), String(LEADER_LOCK_KEY & 0xffff_ffffn)],
          ),
          deadline,
          `no answer from the database within ${deadline} ms`,
        );
        if (!rows[0]?.held) lost(new Error('the leader lock is no longer held by this session'));
      } catch (error) {
        if (!signal.aborted) lost(error as Error);
        return;
      }
    }
  }

  /** Purges published rows and reports parked ones, on a timer independent of traffic. */
  private async housekeep(client: pg.Client, signal: AbortSignal): Promise<void> {
    const hours = this.options.retentionHours ?? 24;
    const interval = this.options.purgeIntervalMs ?? 60_000;
    do {
      try {
        const deleted = await purgeInBatches(
          (sql, params) => client.query(sql, params).then((r) => r.rowCount ?? 0),
          {
            table: 'outbox',
            key: 'seq',
            // Served by outbox_published_at_idx, a partial index on published rows only.
            where: `published_at IS NOT NULL AND published_at < now() - make_interval(hours => ${Number(hours)})`,
            batchSize: this.options.purgeBatchSize ?? 1000,
            signal,
          },
        );
        if (deleted) this.log.info({ deleted, retentionHours: hours }, 'purged published outbox rows');
      } catch (error) {
        if (signal.aborted) return;
        this.log.warn({ err: error }, 'outbox purge failed; retrying at the next interval');
      }
    } while (await sleep(interval, true, { signal }).catch(() => false));
  }

  /**
   * Publishes in a pipeline: batch N+1 is claimed while N is in flight, and N is marked while N+1 is
   * in flight, so database time hides behind broker time. Sends never overlap: N+1 goes out only
   * after the broker acknowledged N, which keeps each aggregate's order, and a failed send stops the
   * pipeline before anything after it is sent. Unmarked rows are re-sent by the next session.
   */
  private async pump(client: pg.Client, broken: () => Error | undefined): Promise<void> {
    let inFlight: { rows: OutboxRow[]; result: Promise<SendResult> } | undefined;
    while (!this.stopping || inFlight) {
      const failure = broken();
      if (failure) throw failure;
      this.pendingWake = false;
      // Rows of the batch in flight are still unpublished: leave them out, not "after the last seq",
      // so a row that committed late with a lower seq is still picked up, first.
      const claimed = this.stopping ? [] : await this.claim(client, inFlight?.rows.map((r) => r.seq) ?? []);
      const previous = inFlight;
      const done = previous ? await previous.result : undefined;
      if (done && this.options.afterSend)
        await this.options.afterSend({
          messageIds: done.published.map((r) => r.id),
          seqs: done.published.map((r) => r.seq),
        });
      // An abdicated leader sends nothing more, even rows it already claimed.
      const lost = broken();
      if (lost) throw lost;
      // Rows of an aggregate parked just now were claimed before the park was written: hold them
      // back here; from the next claim on, the database does.
      const blocked = new Set(done?.parked.map(({ row }) => aggregateOf(row)));
      const { batch, tooLarge } = this.prepare(claimed, blocked);
      inFlight = batch.length > 0 ? { rows: batch, result: this.send(batch) } : undefined;
      if (done) {
        if (done.published.length > 0) {
          await client.query({
            name: 'outbox_relay_mark',
            text: 'UPDATE outbox SET published_at = now() WHERE seq = ANY($1::bigint[])',
            values: [done.published.map((r) => r.seq)],
          });
        }
        this.published += done.published.length;
        publishedTotal.add(done.published.length);
      }
      await this.park(client, [...(done?.parked ?? []), ...tooLarge]);
      if (!inFlight && !previous) await this.idle(this.pollIntervalMs);
    }
  }

  /**
   * The batch to send from the claimed rows, in seq order: rows too large for any batch are parked
   * (and their aggregate's later rows held back), and the batch stops before the byte cap.
   */
  private prepare(rows: OutboxRow[], blocked: Set<string>): { batch: OutboxRow[]; tooLarge: Parked[] } {
    const batch: OutboxRow[] = [];
    const tooLarge: Parked[] = [];
    let bytes = 0;
    for (const row of rows) {
      const aggregate = aggregateOf(row);
      if (blocked.has(aggregate)) continue;
      const size = recordBytes(row);
      if (size > this.maxBatchBytes) {
        tooLarge.push({
          row,
          reason: `record too large: ${size} bytes, the relay's limit is ${this.maxBatchBytes} (below the broker's message.max.bytes)`,
        });
        blocked.add(aggregate);
        continue;
      }
      // The rest waits for the next batch, which claims it first: order is kept.
      if (bytes + size > this.maxBatchBytes) break;
      bytes += size;
      batch.push(row);
    }
    return { batch, tooLarge };
  }

  private async park(client: pg.Client, parked: Parked[]): Promise<void> {
    for (const { row, reason } of parked) {
      await client.query(
        'UPDATE outbox SET parked_at = now(), parked_reason = $2 WHERE seq = $1 AND published_at IS NULL',
        [row.seq, reason],
      );
      parkedTotal.add(1, { topic: row.topic, type: row.type });
      this.log.error(
        { messageId: row.id, seq: row.seq, aggregateId: row.aggregateid, topic: row.topic, reason },
        'outbox row parked: the broker can never accept it; later rows of its aggregate wait (pnpm outbox parked)',
      );
    }
  }

  private async claim(client: pg.Client, inFlight: string[]): Promise<OutboxRow[]> {
    // Driven by outbox_unpublished_idx (seq order, unpublished rows only); the anti-join probes
    // outbox_parked_idx, which holds only parked rows.
    // Named: parsed and planned once per session, not on every wake.
    const { rows } = await client.query<OutboxRow>({
      name: 'outbox_relay_claim',
      text: `SELECT id, seq, aggregatetype, aggregateid, type, payload::text AS payload, topic, schema_version,
              correlation_id, causation_id, traceparent, tracestate, occurred_at
         FROM outbox o
        WHERE published_at IS NULL AND parked_at IS NULL AND seq <> ALL($2::bigint[])
          AND NOT EXISTS (SELECT 1 FROM outbox p
                           WHERE p.parked_at IS NOT NULL AND p.published_at IS NULL
                             AND p.aggregateid = o.aggregateid AND p.aggregatetype = o.aggregatetype
                             AND p.seq < o.seq)
        ORDER BY seq LIMIT $1`,
      values: [this.batchSize, inFlight],
    });
    return rows;
  }

  /**
   * Sends a batch. When the broker refuses it permanently, the refusal does not say which record
   * it was about: the rows are then sent one at a time, in seq order, and each refused row is
   * parked with the rows of its aggregate behind it held back. Retriable failures are thrown.
   */
  private send(rows: OutboxRow[]): Promise<SendResult> {
    const sent = (async (): Promise<SendResult> => {
      const topics = [...new Set(rows.map((r) => r.topic))];
      await ensureTopics(this.options.kafka, topics, {
        numPartitions: this.options.topicPartitions,
        retentionHours: this.options.topicRetentionHours,
        replicationFactor: this.options.topicReplicationFactor,
      });
      try {
        await this.produce(rows);
        return { published: rows, parked: [] };
      } catch (error) {
        if (!isPermanentKafkaError(error)) throw error;
        this.log.warn(
          { err: error, rows: rows.length },
          'broker refused a batch for good; sending its rows one by one',
        );
      }
      const result: SendResult = { published: [], parked: [] };
      const blocked = new Set<string>();
      for (const row of rows) {
        if (blocked.has(aggregateOf(row))) continue;
        try {
          await this.produce([row]);
          result.published.push(row);
        } catch (error) {
          if (!isPermanentKafkaError(error)) throw error;
          result.parked.push({ row, reason: `refused by the broker: ${(error as Error).message}` });
          blocked.add(aggregateOf(row));
        }
      }
      return result;
    })();
    // Awaited by the pump; this only keeps an early failure from being reported as unhandled.
    sent.catch(() => undefined);
    return sent;
  }

  /**
   * One produce request. After a refusal the idempotent producer's sequence numbers no longer
   * match the broker's (the next send fails with OUT_OF_ORDER_SEQUENCE_NUMBER), so a refused send
   * replaces the producer before anything else is sent.
   */
  private async produce(rows: OutboxRow[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const row of rows) {
      const message = { key: row.aggregateid, value: row.payload, headers: headersOf(row) };
      const list = byTopic.get(row.topic);
      if (list) list.push(message);
      else byTopic.set(row.topic, [message]);
    }
    // Within one send, kafkajs keeps each partition's messages in the order given; the idempotent
    // producer (one request in flight) keeps that order across retries.
    batchRows.record(rows.length);
    try {
      await this.producer!.sendBatch({
        acks: -1,
        compression: compressionCodecs[this.options.compression ?? 'none'],
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
    } catch (error) {
      const permanent = isPermanentKafkaError(error);
      publishFailures.add(1, { permanent: permanent ? 'true' : 'false' });
      if (permanent) await this.renewProducer();
      throw error;
    }
  }

  private async renewProducer(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = this.options.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await this.producer.connect();
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
    this.sessionDone?.abort();
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
    // Ending the session releases the advisory lock, so a standby can take over at once. A
    // graceful end waits for the server; on a dead path it never answers, so the socket goes.
    const client = this.client;
    this.client = undefined;
    if (client) await withDeadline(client.end(), 1000, 'end').catch(() => undefined);
    this.socket?.destroy();
    this.socket = undefined;
  }
}

/**
 * Settings for the relay's own sessions (never the server's defaults), so the SERVER ends a
 * session that went silent and releases its advisory lock:
 * - `idle_session_timeout`: a session that sends nothing for the timeout is ended. The leader
 *   checks its lock every fifth of it, so only a dead or unreachable client stays silent that long.
 *   This is what ends a session whose path is black-holed while the server's own socket looks
 *   healthy (a proxy or load balancer in between that still acknowledges packets).
 * - `tcp_keepalives_*`, `tcp_user_timeout`: a peer that vanished from the network (no ACKs) is
 *   dropped by the server's kernel within the same bound, even in the middle of sending a result.
 * - `statement_timeout`: no statement of the relay's may outlast the lease check.
 */
function serverSessionOptions(timeoutMs: number): string {
  const seconds = Math.max(1, Math.floor(timeoutMs / 1000));
  const settings = {
    idle_session_timeout: timeoutMs,
    tcp_keepalives_idle: Math.max(1, Math.floor(seconds / 2)),
    tcp_keepalives_interval: Math.max(1, Math.floor(seconds / 10)),
    tcp_keepalives_count: 3,
    tcp_user_timeout: timeoutMs,
    statement_timeout: Math.floor(timeoutMs / 2),
    // The claim is a named statement: planned for its parameters every time, never a generic plan
    // cached while the table was small (a sequential scan that the growing table then pays for).
    plan_cache_mode: 'force_custom_plan',
    // Every statement of this session has an index made for it (unpublished rows by seq, rows by
    // seq, published rows by age), and the planner's estimates for a table that fills and drains in
    // minutes are often wrong: a backlog inserted faster than autovacuum analyzes it reads as a
    // handful of rows, and the claim then fetched and sorted the WHOLE backlog for every batch
    // (measured: 100,000 rows took 18 s to claim and mark, 1.6 s with these two settings; the same
    // 1.6 s once the table was analyzed). No sequential or bitmap scan for this session.
    enable_seqscan: 'off',
    enable_bitmapscan: 'off',
  };
  return Object.entries(settings)
    .map(([name, value]) => `-c ${name}=${value}`)
    .join(' ');
}

function withDeadline<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

function aggregateOf(row: OutboxRow): string {
  return `${row.aggregatetype}\u0000${row.aggregateid}`;
}

/** Bytes the row takes in a record batch, over-estimated. */
function recordBytes(row: OutboxRow): number {
  let bytes = RECORD_OVERHEAD + Buffer.byteLength(row.aggregateid) + Buffer.byteLength(row.payload);
  for (const [name, value] of Object.entries(headersOf(row)))
    bytes += HEADER_OVERHEAD + Buffer.byteLength(name) + Buffer.byteLength(String(value));
  return bytes;
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
