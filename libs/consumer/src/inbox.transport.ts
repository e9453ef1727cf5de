import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import {
  ContractViolation,
  currentVersion,
  deadLetterTopic,
  topicName,
  type TopicKey,
  fromKafkaMessage,
  messageSpec,
  type Envelope,
} from '@order-saga/contracts';
import { ensureTopics, subscribeRetrying, type SqlTx } from '@order-saga/outbox';
import { meter, runWithMessageContext, withConsumerSpan } from '@order-saga/telemetry';
import type { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import pRetry from 'p-retry';
import { lastValueFrom } from 'rxjs';
import { DLT_HEADERS, REPLAYED_FROM_HEADER, deadLetterHeaders } from './dead-letter.js';
import {
  PermanentError,
  TransactionTimeoutError,
  isRetriableKafkaError,
  isTransactionTimeout,
  isTransient,
} from './errors.js';
import { consumerTally, type MessageSeries } from './consumer-metrics.js';
import type { CommittedRun } from './fault-hook.js';
import { ISOLATION_EXTRA, type HandleMessageOptions } from './handle-message.decorator.js';
import { InboxContext } from './inbox-context.js';
import { OffsetCommitter } from './offset-committer.js';

/**
 * Runs `work` in one database transaction that is rolled back after `timeoutMs`, e.g.
 * `(work, { timeoutMs }) => prisma.$transaction(work, { timeout: timeoutMs })`. The transport
 * chooses the timeout (see {@link InboxTransportOptions.transactionTimeoutMs}); a runner that
 * ignores it lets one slow message hold a partition for as long as it likes.
 */
export type TransactionRunner<Tx extends SqlTx> = <T>(
  work: (tx: Tx) => Promise<T>,
  options: { timeoutMs: number },
) => Promise<T>;

/** What the inbox row of a message says happened to it. */
export type InboxOutcome = 'applied' | 'dead-lettered' | 'dead-letter-failed';

const consumerMeter = meter('order-saga.consumer');
const transactionTimeouts = consumerMeter.createCounter('consumer_transaction_timeouts_total', {
  description: 'Handler transactions rolled back by their timeout (the chunk is then split)',
});
const deadLetters = consumerMeter.createCounter('consumer_dead_letters_total', {
  description:
    'Messages dead-lettered, by how: sent (whole record), truncated (the DLT refused the record; cause and position only), failed (the DLT refused even that)',
});

export interface InboxTransportOptions<Tx extends SqlTx = SqlTx> {
  /** Names the consumer group and the inbox records; one per service (e.g. `inventory`). */
  consumerName: string;
  kafka: Kafka;
  transaction: TransactionRunner<Tx>;
  /** Prepended to every topic (tests isolate themselves with it). */
  topicPrefix?: string;
  /** Handler attempts before a message goes to the dead-letter topic. Default 5. */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt up to `maxBackoffMs`. Default 200. */
  retryBackoffMs?: number;
  maxBackoffMs?: number;
  /** Messages applied per database transaction. Default 200. */
  chunkSize?: number;
  /**
   * Longest a handler transaction may stay open; a transaction that exceeds it counts as a failed
   * attempt and its chunk is split. Must be shorter than `sessionTimeoutMs`, so that a partition
   * is never held past the time after which the group would give it to another member. Default 8 s.
   */
  transactionTimeoutMs?: number;
  /** Partitions processed in parallel by this process. Default 3. */
  partitionsConsumedConcurrently?: number;
  topicPartitions?: number;
  /**
   * `retention.ms` (hours) of the topics this transport creates, dead-letter topics included: the
   * same setting the relay uses (`KAFKA_TOPIC_RETENTION_HOURS`), so the inbox retention that covers
   * it covers every topic. Default: `ensureTopics`' default.
   */
  topicRetentionHours?: number;
  /** Replicas of the topics this transport creates (`KAFKA_TOPIC_REPLICATION_FACTOR`). Default: the broker's. */
  topicReplicationFactor?: number;
  /**
   * How long the broker waits for a silent member before giving its partitions to another one.
   * Shorter than kafkajs' 30 s so a crashed consumer's partitions resume sooner. Default 10 s.
   */
  sessionTimeoutMs?: number;
  /**
   * Failure-drill hook, run after a run's transaction committed and before its offsets are
   * resolved and handed to the offset committer: the window in which a crash makes the broker
   * deliver applied messages again. `holdAfterCommit` (fault-hook.ts) is the one the services
   * install when a drill asks for it; unset, nothing runs there.
   */
  afterCommit?: (run: CommittedRun) => Promise<void> | void;
}

interface Item {
  message: KafkaMessage;
  envelope?: Envelope;
  violation?: ContractViolation;
  pattern?: string;
  /** Where this message's figures are counted (topic and type). */
  series: MessageSeries;
  /** Set in a transaction: the inbox already had it. Read only once the transaction committed. */
  duplicate?: boolean;
}

interface PartitionScope {
  topic: string;
  partition: number;
  payload: EachBatchPayload;
  /** Set when a heartbeat says the group is rebalancing: this member must stop and rejoin. */
  lost?: unknown;
}

// kafkajs sends a heartbeat only when this much time has passed since the last one, however often
// `heartbeat()` is called.
const HEARTBEAT_INTERVAL_MS = 1000;
const DEFAULT_SESSION_TIMEOUT_MS = 10_000;

// Heartbeat answers meaning "this member's assignment is over": stop the batch and let kafkajs
// rejoin (it does so when the error leaves eachBatch).
const REBALANCE_ERRORS = new Set([
  'REBALANCE_IN_PROGRESS',
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'FENCED_INSTANCE_ID',
]);

class RunFailure extends Error {
  constructor(
    /** The failing message in the run, or -1 when the run timed out and any of them may be slow. */
    readonly index: number,
    override readonly cause: unknown,
  ) {
    super('handler failed');
  }
}

class Interrupted extends Error {}

/**
 * A Nest transport strategy over kafkajs for handlers declared with `@EventPattern(<message type>)`
 * (or a topic name), with the messaging rules the stock Kafka transport does not give:
 *
 * - validation at consume: a message that breaks its contract goes to `<topic>.dlt` at once;
 * - exactly-once effects: the inbox record (consumer + message id) and the handler's writes commit
 *   in one transaction; a duplicate delivery finds the record and changes nothing;
 * - offsets are committed only after that transaction commits, per chunk, never per message;
 * - the database or broker being down is waited out (capped exponential backoff), never
 *   dead-lettered; a handler that keeps throwing is dead-lettered after `maxAttempts`, with the
 *   cause in headers, and the partition moves on;
 * - partition order is kept: one partition's messages are applied one after another.
 *
 * Handlers must run with {@link RethrowRpcExceptionFilter} so their errors reach the transport.
 */
export class KafkaInboxTransport<Tx extends SqlTx = SqlTx> extends Server implements CustomTransportStrategy {
  private readonly log = new Logger(KafkaInboxTransport.name);
  private readonly maxAttempts: number;
  private readonly retryBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly chunkSize: number;
  private readonly sessionTimeoutMs: number;
  private readonly transactionTimeoutMs: number;
  private consumer?: Consumer;
  private producer?: Producer;
  private committer?: OffsetCommitter;
  private closing = false;
  private keysByTopic = new Map<string, string>();

  constructor(private readonly options: InboxTransportOptions<Tx>) {
    super();
    this.maxAttempts = options.maxAttempts ?? 5;
    this.retryBackoffMs = options.retryBackoffMs ?? 200;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.chunkSize = options.chunkSize ?? 200;
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    this.transactionTimeoutMs = options.transactionTimeoutMs ?? 8_000;
    // The one place both are known: a transaction allowed to outlast the session would let the
    // broker hand the partition to another member while this one still writes its effects.
    if (this.transactionTimeoutMs >= this.sessionTimeoutMs) {
      throw new Error(
        `consumer ${options.consumerName}: transactionTimeoutMs (${this.transactionTimeoutMs}) must be shorter than sessionTimeoutMs (${this.sessionTimeoutMs})`,
      );
    }
  }

  on(): never {
    throw new Error('KafkaInboxTransport does not emit events');
  }

  unwrap<T>(): T {
    return this.consumer as T;
  }

  listen(callback: (error?: unknown) => void): void {
    this.start().then(() => callback(), callback);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.committer?.flush();
    // Waits for the batches in progress (they stop after their chunk and commit), then leaves.
    await this.consumer?.stop().catch(() => undefined);
    this.committer?.stop();
    await this.consumer?.disconnect().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
  }

  /** Full topic name → un-prefixed topic key, for every topic a handler listens on. */
  private topicKeys(): Map<string, string> {
    const keys = new Map<string, string>();
    for (const pattern of this.messageHandlers.keys()) {
      const key = topicOfPattern(pattern);
      keys.set(topicName(key as TopicKey, this.options.topicPrefix), key);
    }
    return keys;
  }

  private async start(): Promise<void> {
    const { kafka, consumerName } = this.options;
    this.keysByTopic = this.topicKeys();
    const topics = [...this.keysByTopic.keys()];
    if (topics.length === 0) throw new Error(`consumer ${consumerName} has no @EventPattern handlers`);
    await ensureTopics(kafka, [...topics, ...topics.map(deadLetterTopic)], {
      numPartitions: this.options.topicPartitions,
      retentionHours: this.options.topicRetentionHours,
      replicationFactor: this.options.topicReplicationFactor,
    });

    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await this.producer.connect();
    this.consumer = kafka.consumer({
      // The topic prefix names an environment (tests, a developer's sandbox): groups must not span
      // environments, or a member would be handed partitions of topics it does not read.
      groupId: `${this.options.topicPrefix ?? ''}${consumerName}`,
      allowAutoTopicCreation: false,
      sessionTimeout: this.sessionTimeoutMs,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      // A crashed consumer (e.g. broker gone for longer than kafkajs' own retries) restarts
      // instead of leaving the service alive but deaf.
      retry: { retries: 8, restartOnFailure: async () => !this.closing },
    });
    // One line per join: a group that keeps rebalancing shows as many of them.
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) =>
      this.log.log(
        `consumer ${consumerName} joined its group as ${payload.memberId}: ${Object.entries(
          payload.memberAssignment,
        )
          .map(([topic, partitions]) => `${topic}[${partitions.join(',')}]`)
          .join(' ')}`,
      ),
    );
    this.committer = new OffsetCommitter(this.consumer, (error) =>
      this.log.warn(`offset commit failed, will retry: ${(error as Error).message}`),
    );
    await this.consumer.connect();
    // A new group starts at the oldest message: nothing published before it existed is skipped.
    await subscribeRetrying(this.consumer, { topics, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
      eachBatch: (payload) => this.onBatch(payload),
    });
    this.log.log(`consumer ${consumerName} reading ${topics.join(', ')}`);
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const scope: PartitionScope = { topic: batch.topic, partition: batch.partition, payload };
    try {
      for (let start = 0; start < batch.messages.length; start += this.chunkSize) {
        if (!this.active(scope)) break;
        const items = batch.messages.slice(start, start + this.chunkSize).map((m) => this.decode(scope, m));
        await this.processChunk(scope, items);
        // A long batch must still answer the group: the heartbeat is how this member learns of a
        // rebalance, and then hands the partition over after this chunk instead of holding every
        // other member's join until the whole batch is done.
        await this.beat(scope);
      }
      if (scope.lost) throw scope.lost;
    } catch (error) {
      // Stopping or a rebalance interrupted the batch: the rest stays unresolved and is fetched
      // again by whoever owns the partition next. A rebalance error must reach kafkajs to rejoin.
      if (scope.lost) throw scope.lost;
      if (!(error instanceof Interrupted)) throw error;
    } finally {
      // Shutting down: commit what is done while this member still owns the partition (kafkajs
      // leaves the group once the batch returns). In a rebalance the coordinator refuses commits of
      // the old generation, and waiting on them would hold every member's join: the next owner
      // re-reads from the last commit and the inbox skips what was already applied.
      if (this.closing) await this.committer!.flush();
    }
  }

  /** Applies a chunk: runs of handled messages in one transaction each, poison messages to the DLT. */
  private async processChunk(scope: PartitionScope, items: Item[]): Promise<void> {
    let run: Item[] = [];
    const flushRun = async () => {
      if (run.length > 0) await this.applyRun(scope, run);
      run = [];
    };
    for (const item of items) {
      if (item.violation) {
        await flushRun();
        consumerTally.schemaFailure(scope.topic);
        const now = new Date();
        await this.deadLetter(scope, item, item.violation, 0, now, now);
        this.done(scope, item);
      } else if (!item.pattern) {
        // A message type this service has no handler for (e.g. a newer event on a shared topic).
        await flushRun();
        this.done(scope, item);
      } else if (this.perMessage(item.pattern)) {
        await flushRun();
        await this.applyRun(scope, [item]);
      } else {
        run.push(item);
      }
    }
    await flushRun();
  }

  /** Applies consecutive messages in one transaction; isolates and retries a failing one. */
  private async applyRun(scope: PartitionScope, items: Item[]): Promise<void> {
    let start = 0;
    while (start < items.length) {
      const rest = items.slice(start);
      const failure = await this.untilDone(scope, () => this.transact(scope, rest, 1));
      if (!failure) {
        if (this.options.afterCommit) await this.afterCommit(scope, rest);
        rest.forEach((item) => this.done(scope, item));
        return;
      }
      if (failure.index < 0) {
        // Timed out with no message to blame: halve until the slow one is alone, then it gets its
        // attempts like any failing message. At most log2(chunkSize) extra timeouts per message.
        const half = Math.ceil(rest.length / 2);
        this.log.warn(
          `${scope.topic}[${scope.partition}] transaction of ${rest.length} messages timed out after ${this.transactionTimeoutMs} ms; splitting it`,
        );
        await this.applyRun(scope, rest.slice(0, half));
        await this.applyRun(scope, rest.slice(half));
        return;
      }
      // The whole transaction rolled back. Apply the messages before the failing one again, then
      // give the failing one its remaining attempts on its own.
      const before = rest.slice(0, failure.index);
      if (before.length > 0) await this.applyRun(scope, before);
      const failing = rest[failure.index]!;
      await this.retryAlone(scope, failing, failure.cause);
      this.done(scope, failing);
      start += failure.index + 1;
    }
  }

  /** Runs the drill hook on what a committed run applied, heartbeating while it holds. */
  private async afterCommit(scope: PartitionScope, items: Item[]): Promise<void> {
    const applied = items.filter((item) => !item.duplicate);
    if (applied.length === 0) return;
    // A hold must not cost this member its partitions: the drill kills it, it is not evicted.
    const heartbeats = setInterval(() => void this.beat(scope).catch(() => undefined), HEARTBEAT_INTERVAL_MS);
    try {
      await this.options.afterCommit!({
        topic: scope.topic,
        partition: scope.partition,
        messageIds: applied.map((item) => item.envelope!.messageId),
        offsets: applied.map((item) => item.message.offset),
      });
    } finally {
      clearInterval(heartbeats);
    }
  }

  private async retryAlone(scope: PartitionScope, item: Item, firstError: unknown): Promise<void> {
    const firstFailureAt = new Date();
    let lastError = firstError;
    let attempts = 1;
    if (!(lastError instanceof PermanentError) && attempts < this.maxAttempts)
      item.series.counts.retried += 1;
    while (!(lastError instanceof PermanentError) && attempts < this.maxAttempts) {
      await this.pause(scope, Math.min(this.maxBackoffMs, this.retryBackoffMs * 2 ** (attempts - 1)));
      attempts += 1;
      item.series.retries += 1;
      const failure = await this.untilDone(scope, () => this.transact(scope, [item], attempts));
      if (!failure) return;
      lastError = failure.cause;
      this.log.warn(
        `${item.envelope?.type} ${item.envelope?.messageId} failed attempt ${attempts}/${this.maxAttempts}: ${(lastError as Error).message}`,
      );
    }
    await this.deadLetter(scope, item, lastError, attempts, firstFailureAt, new Date());
  }

  /**
   * One transaction: record the messages in the inbox (one statement), run the handler of each one
   * that was not there yet. Returns the first handler failure (after rolling back), or nothing.
   */
  private async transact(
    scope: PartitionScope,
    items: Item[],
    attempt: number,
  ): Promise<RunFailure | undefined> {
    // A long transaction must not cost this member its place in the group: heartbeats go on
    // while it runs, and a rebalance they report is honoured as soon as it ends.
    const heartbeats = setInterval(() => void this.beat(scope).catch(() => undefined), HEARTBEAT_INTERVAL_MS);
    try {
      await this.options.transaction(
        async (tx) => {
          const fresh = await this.claim(tx, scope, items);
          for (const [index, item] of items.entries()) {
            // Only the first copy of a message id runs; later copies in the same run are duplicates.
            item.duplicate = !fresh.delete(item.envelope!.messageId);
            if (item.duplicate) continue;
            try {
              await this.invoke(scope, item, tx, attempt);
            } catch (error) {
              if (isTransient(error) || isTransactionTimeout(error)) throw error;
              throw new RunFailure(index, error);
            }
          }
        },
        { timeoutMs: this.transactionTimeoutMs },
      );
      // Counted once committed: a rolled-back attempt applied nothing.
      for (const item of items) item.series.counts[item.duplicate ? 'duplicate' : 'handled'] += 1;
      return undefined;
    } catch (error) {
      if (error instanceof RunFailure) return error;
      if (isTransactionTimeout(error)) {
        transactionTimeouts.add(1, { 'messaging.destination.name': scope.topic });
        return new RunFailure(
          items.length === 1 ? 0 : -1,
          new TransactionTimeoutError(
            `transaction of ${items.length} message(s) exceeded its ${this.transactionTimeoutMs} ms timeout`,
            { cause: error },
          ),
        );
      }
      throw error;
    } finally {
      clearInterval(heartbeats);
    }
  }

  /**
   * Records the messages in the inbox; returns the ids to apply: those not there yet, and replays
   * (`pnpm dlt replay` keeps the message id) of messages whose row says they were dead-lettered.
   */
  private async claim(tx: Tx, scope: PartitionScope, items: Item[]): Promise<Set<string>> {
    const rows = await tx.$queryRawUnsafe<{ message_id: string }[]>(
      `INSERT INTO inbox (consumer, message_id, topic, partition, "offset")
       SELECT $1, m.id, $2, $3, m.off FROM unnest($4::uuid[], $5::bigint[]) AS m(id, off)
       ON CONFLICT DO NOTHING RETURNING message_id::text`,
      this.options.consumerName,
      scope.topic,
      scope.partition,
      items.map((i) => i.envelope!.messageId),
      items.map((i) => i.message.offset),
    );
    const fresh = new Set(rows.map((r) => r.message_id));
    const replays = items.filter((i) => isReplay(i.message) && !fresh.has(i.envelope!.messageId));
    if (replays.length > 0) {
      // Only a 'dead-lettered' row is taken over: a replay of a message that was applied since
      // (an earlier replay) stays a duplicate. A rollback puts the row back as it was.
      const replayed = await tx.$queryRawUnsafe<{ message_id: string }[]>(
        `UPDATE inbox SET outcome = 'applied', topic = $2, partition = $3, "offset" = m.off, processed_at = now()
         FROM unnest($4::uuid[], $5::bigint[]) AS m(id, off)
         WHERE inbox.consumer = $1 AND inbox.message_id = m.id AND inbox.outcome = 'dead-lettered'
         RETURNING inbox.message_id::text`,
        this.options.consumerName,
        scope.topic,
        scope.partition,
        replays.map((i) => i.envelope!.messageId),
        replays.map((i) => i.message.offset),
      );
      for (const r of replayed) fresh.add(r.message_id);
    }
    return fresh;
  }

  /** Records what happened to a message that was not applied, so a redelivery is not processed again. */
  private async recordOutcome(scope: PartitionScope, item: Item, outcome: InboxOutcome): Promise<void> {
    if (!item.envelope) return;
    await this.untilDone(scope, () =>
      this.options.transaction(
        async (tx) =>
          await tx.$executeRawUnsafe(
            `INSERT INTO inbox (consumer, message_id, topic, partition, "offset", outcome)
             VALUES ($1, $2::uuid, $3, $4, $5::bigint, $6) ON CONFLICT DO NOTHING`,
            this.options.consumerName,
            item.envelope!.messageId,
            scope.topic,
            scope.partition,
            item.message.offset,
            outcome,
          ),
        { timeoutMs: this.transactionTimeoutMs },
      ),
    );
  }

  private perMessage(pattern: string): boolean {
    const extras = this.messageHandlers.get(pattern)?.extras as HandleMessageOptions | undefined;
    return extras?.[ISOLATION_EXTRA] === 'per-message';
  }

  private async invoke(scope: PartitionScope, item: Item, tx: Tx, attempt: number): Promise<void> {
    const envelope = item.envelope!;
    const handler = this.messageHandlers.get(item.pattern!)!;
    const context = new InboxContext<Tx>([
      tx,
      envelope,
      scope.topic,
      scope.partition,
      item.message.offset,
      attempt,
    ]);
    await withConsumerSpan(
      `${scope.topic} process`,
      { traceparent: envelope.traceparent, tracestate: envelope.tracestate },
      {
        'messaging.system': 'kafka',
        'messaging.destination.name': scope.topic,
        'messaging.destination.partition.id': String(scope.partition),
        'messaging.kafka.offset': item.message.offset,
        'messaging.message.id': envelope.messageId,
        'messaging.message.type': envelope.type,
        'messaging.consumer.group.name': this.options.consumerName,
        'order_saga.correlation_id': envelope.correlationId,
        'order_saga.attempt': attempt,
      },
      () =>
        runWithMessageContext(
          {
            correlationId: envelope.correlationId,
            causationId: envelope.causationId ?? undefined,
            messageId: envelope.messageId,
          },
          async () => {
            const started = performance.now();
            const result = await handler(envelope.payload, context);
            await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined }).catch(
              (error: unknown) => {
                throw unwrapRpcError(error);
              },
            );
            consumerTally.handlerSeconds(item.series, (performance.now() - started) / 1000);
            // One line per applied message, inside its message context: it carries the correlation
            // id, so one order can be followed through every service's log.
            this.log.log({
              msg: `handled ${envelope.type}`,
              messageId: envelope.messageId,
              aggregateId: envelope.aggregateId,
              topic: scope.topic,
              offset: item.message.offset,
              attempt,
            });
          },
        ),
    );
  }

  private decode(scope: PartitionScope, message: KafkaMessage): Item {
    const decoded = fromKafkaMessage({
      key: message.key,
      value: message.value,
      headers: message.headers ?? {},
    });
    // A message that broke its contract has no type to trust: its header could be anything.
    if (!decoded.ok)
      return { message, violation: decoded.error, series: consumerTally.series(scope.topic, 'invalid') };
    const envelope = decoded.envelope;
    const topicKey = this.keysByTopic.get(scope.topic) ?? scope.topic;
    const pattern = this.messageHandlers.has(envelope.type)
      ? envelope.type
      : this.messageHandlers.has(topicKey)
        ? topicKey
        : undefined;
    // An unknown type gets no series of its own: a producer's typo must not add a label value.
    return {
      message,
      envelope,
      pattern,
      series: consumerTally.series(scope.topic, pattern ? envelope.type : 'unhandled'),
    };
  }

  /**
   * Sends the message to `<topic>.dlt` with the cause in headers; once the broker acknowledged
   * it, records the message in the inbox as dead-lettered, so a redelivery (e.g. after a crash
   * before the offset commit) is not processed again. A crash between the two re-dead-letters
   * the message: a duplicate on the DLT, never a second application.
   */
  private async deadLetter(
    scope: PartitionScope,
    item: Item,
    error: unknown,
    attempts: number,
    firstFailureAt: Date,
    lastFailureAt: Date,
  ): Promise<void> {
    const { message } = item;
    const cause = {
      consumer: this.options.consumerName,
      topic: scope.topic,
      partition: scope.partition,
      offset: message.offset,
      error,
      attempts,
      firstFailureAt,
      lastFailureAt,
    };
    const dlt = deadLetterTopic(scope.topic);
    const what = `${item.envelope?.type ?? 'undecodable message'} ${item.envelope?.messageId ?? ''} from ${scope.topic}[${scope.partition}]@${message.offset}`;
    const full = {
      key: message.key,
      value: message.value,
      headers: deadLetterHeaders(message.headers, cause),
    };
    let refused = await this.sendDeadLetter(scope, dlt, full);
    let how: 'sent' | 'truncated' | 'failed' = 'sent';
    if (refused) {
      // The DLT will never take this record (too large, or refused outright). Waiting would stop
      // the partition for good; instead send what is needed to find the message again: its cause
      // and its position (the original stays on its topic until retention). A truncated record
      // cannot be replayed, and replayDeadLetters says so.
      this.log.error(
        `dead-letter topic ${dlt} refused ${what}: ${(refused as Error).message}; sending it truncated`,
      );
      how = 'truncated';
      refused = await this.sendDeadLetter(scope, dlt, {
        key: message.key,
        value: null,
        headers: truncatedHeaders(message.headers, cause, refused),
      });
      if (refused) how = 'failed';
    }
    deadLetters.add(1, { 'messaging.destination.name': scope.topic, outcome: how });
    item.series.counts.dead_lettered += 1;
    await this.recordOutcome(scope, item, how === 'failed' ? 'dead-letter-failed' : 'dead-lettered');
    if (how === 'failed') {
      this.log.error(
        `cannot dead-letter ${what}: ${dlt} refused even the truncated record (${(refused as Error).message}); skipped, the message stays at that position of ${scope.topic} until retention (inbox outcome 'dead-letter-failed'). Cause: ${(error as Error).message}`,
      );
      return;
    }
    this.log.error(
      `dead-lettered ${what} to ${dlt}${how === 'truncated' ? ' (truncated)' : ''} after ${attempts} attempt(s): ${(error as Error).message}`,
    );
  }

  /** Sends one record to the DLT, waiting out retriable errors; returns a non-retriable one. */
  private async sendDeadLetter(
    scope: PartitionScope,
    dlt: string,
    record: { key: Buffer | null; value: Buffer | null; headers: IHeaders },
  ): Promise<unknown> {
    try {
      await this.untilDone(
        scope,
        () => this.producer!.send({ topic: dlt, acks: -1, messages: [record] }),
        isRetriableKafkaError,
      );
      return undefined;
    } catch (error) {
      if (error instanceof Interrupted || isRetriableKafkaError(error)) throw error;
      return error;
    }
  }

  /** Marks a message done: resolved for this session and due for the next offset commit. */
  private done(scope: PartitionScope, item: Item): void {
    scope.payload.resolveOffset(item.message.offset);
    this.committer!.advance(scope.topic, scope.partition, (BigInt(item.message.offset) + 1n).toString());
  }

  /**
   * Retries `work` while it fails with a transient (infrastructure) error, with capped exponential
   * backoff and heartbeats, for as long as this partition is still ours.
   */
  private async untilDone<T>(
    scope: PartitionScope,
    work: () => Promise<T>,
    transient = isTransient,
  ): Promise<T> {
    // A wait between two tries may be as long as the session timeout (maxBackoffMs): heartbeats go
    // on during it, or an outage longer than the session timeout would cost this member its place
    // in the group (and with replicas, move partitions mid-outage). A rebalance they report ends
    // the wait at once.
    const stop = new AbortController();
    const heartbeats = setInterval(
      () => void this.beat(scope).catch(() => stop.abort(new Interrupted())),
      HEARTBEAT_INTERVAL_MS,
    );
    try {
      return await this.retryTransient(scope, work, transient, stop.signal);
    } finally {
      clearInterval(heartbeats);
    }
  }

  private retryTransient<T>(
    scope: PartitionScope,
    work: () => Promise<T>,
    transient: (error: unknown) => boolean,
    signal: AbortSignal,
  ): Promise<T> {
    return pRetry(
      async () => {
        if (!this.active(scope)) throw new Interrupted();
        return work();
      },
      {
        retries: Number.POSITIVE_INFINITY,
        minTimeout: this.retryBackoffMs,
        maxTimeout: this.maxBackoffMs,
        randomize: true,
        signal,
        shouldRetry: ({ error }) => !(error instanceof Interrupted) && transient(error) && this.active(scope),
        onFailedAttempt: async ({ error, attemptNumber }) => {
          if (error instanceof Interrupted || !transient(error)) return;
          this.log.warn(
            `${scope.topic}[${scope.partition}] waiting out: ${error.message} (try ${attemptNumber})`,
          );
          await this.beat(scope);
        },
      },
    ).catch((error: unknown) => {
      if (!this.active(scope) && transient(error)) throw new Interrupted();
      throw error;
    });
  }

  private async pause(scope: PartitionScope, ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (!this.active(scope)) throw new Interrupted();
      await sleep(Math.min(1000, until - Date.now()));
      await this.beat(scope);
    }
  }

  private active(scope: PartitionScope): boolean {
    return !this.closing && !scope.lost && scope.payload.isRunning() && !scope.payload.isStale();
  }

  /** Heartbeats; remembers and rethrows a rebalance, ignores a broker it cannot reach right now. */
  private async beat(scope: PartitionScope): Promise<void> {
    try {
      await scope.payload.heartbeat();
    } catch (error) {
      if (REBALANCE_ERRORS.has(String((error as { type?: unknown }).type))) {
        scope.lost = error;
        throw error;
      }
    }
  }
}

function isReplay(message: KafkaMessage): boolean {
  return message.headers?.[REPLAYED_FROM_HEADER] !== undefined;
}

// Original headers a truncated dead letter keeps: enough to identify the message, nothing large.
const IDENTIFYING_HEADERS = ['id', 'type', 'schema-version', 'correlation-id', 'aggregate-type'];

function truncatedHeaders(
  original: IHeaders | undefined,
  cause: Parameters<typeof deadLetterHeaders>[1],
  refusal: unknown,
): IHeaders {
  const kept = Object.fromEntries(
    IDENTIFYING_HEADERS.filter((name) => original?.[name] !== undefined).map((name) => [
      name,
      original![name],
    ]),
  );
  const headers = deadLetterHeaders(kept, cause);
  const refusalError = refusal as { type?: unknown; message?: unknown };
  headers[DLT_HEADERS.errorMessage] = String(headers[DLT_HEADERS.errorMessage]).slice(0, 500);
  headers[DLT_HEADERS.truncated] =
    `${String(refusalError.type ?? 'refused')}: ${String(refusalError.message)}`.slice(0, 300);
  return headers;
}

/** A pattern is a message type (its topic comes from the contracts) or a topic name itself. */
function topicOfPattern(pattern: string): string {
  try {
    return messageSpec(pattern, currentVersion(pattern)).topic;
  } catch {
    return pattern;
  }
}

/** Nest's default RPC filter replaces errors with `{ status, message }`; refuse to guess. */
function unwrapRpcError(error: unknown): unknown {
  if (error instanceof Error) return error;
  return new Error(
    `handler failed with ${JSON.stringify(error)}; register RethrowRpcExceptionFilter so the original error reaches the transport`,
  );
}
