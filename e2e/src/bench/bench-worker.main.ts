/**
 * A child process of the messaging benchmark: the outbox relay, the `KafkaInboxTransport`
 * consumer, or a bare kafkajs consumer, as `WorkerConfig` (JSON in argv[2]) says. Reports over IPC.
 */
import './quiet-warnings.js';
import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, Payload } from '@nestjs/microservices';
import {
  HandleMessage,
  InboxContext,
  KafkaInboxTransport,
  RethrowRpcExceptionFilter,
  pgTransaction,
  type PgTx,
} from '@order-saga/consumer';
import pg from 'pg';
import type { LedgerEntryRecorded } from '@order-saga/contracts';
import { OutboxRelay, createKafka } from '@order-saga/outbox';
import { testbedClient, type TestbedTx } from '../fixtures/testbed.js';
import { messageIdOf } from './ledger-messages.js';
import {
  nowUs,
  type ReportMode,
  type WorkerCommand,
  type WorkerConfig,
  type WorkerReport,
} from './worker-protocol.js';

const config = JSON.parse(process.argv[2]!) as WorkerConfig;
const send = (report: WorkerReport) => process.send!(report);

/** Buffers what this process received and ships it every 20 ms: one IPC message per event would cost more than the event. */
class Recorder {
  private ids: string[] = [];
  private at: number[] = [];
  private count = 0;
  private firstCount = 0;
  private firstAt = 0;
  private lastAt = 0;
  private readonly timer = setInterval(() => this.flush(), 20);

  constructor(private readonly mode: ReportMode) {}

  seen(id: string): void {
    const at = nowUs();
    if (this.mode === 'each') {
      this.ids.push(id);
      this.at.push(at);
    }
    this.counted(1, at);
  }

  counted(n: number, at = nowUs()): void {
    if (this.count === 0) {
      this.firstAt = at;
      this.firstCount = n;
    }
    this.count += n;
    this.lastAt = at;
  }

  flush(): void {
    if (this.ids.length > 0) send({ kind: 'seen', ids: this.ids, at: this.at });
    this.ids = [];
    this.at = [];
    if (this.count > 0)
      send({
        kind: 'count',
        count: this.count,
        firstCount: this.firstCount,
        firstAt: this.firstAt,
        lastAt: this.lastAt,
      });
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}

async function startRelay(c: Extract<WorkerConfig, { role: 'relay' }>): Promise<() => Promise<void>> {
  // The relay's defaults (batch 500, compression none) are what the benchmark compares with.
  const relay = new OutboxRelay({
    databaseUrl: c.databaseUrl,
    kafka: createKafka({ clientId: 'bench-relay', brokers: c.brokers }),
  });
  relay.start();
  while (!relay.isLeader) await new Promise((r) => setTimeout(r, 10));
  return () => relay.stop();
}

async function startInboxConsumer(
  c: Extract<WorkerConfig, { role: 'inbox-consumer' }>,
  recorder: Recorder,
): Promise<() => Promise<void>> {
  @Controller()
  class LedgerBenchController {
    @HandleMessage('LedgerEntryRecorded')
    async record(
      @Payload() entry: LedgerEntryRecorded,
      @Ctx() ctx: InboxContext<TestbedTx | PgTx>,
    ): Promise<void> {
      recorder.seen(ctx.envelope.messageId);
      if (c.transactions === 'pg') {
        await ctx.tx.$executeRawUnsafe(
          'INSERT INTO effect (consumer, message_id, aggregate_id, seq) VALUES ($1, $2::uuid, $3, $4)',
          c.consumerName,
          ctx.envelope.messageId,
          entry.aggregateId,
          entry.seq,
        );
        return;
      }
      await (ctx.tx as TestbedTx).effect.create({
        data: {
          consumer: c.consumerName,
          messageId: ctx.envelope.messageId,
          aggregateId: entry.aggregateId,
          seq: entry.seq,
        },
      });
    }
  }
  @Module({ controllers: [LedgerBenchController] })
  class LedgerBenchModule {}

  const prisma = testbedClient(c.databaseUrl);
  const pool = new pg.Pool({ connectionString: c.databaseUrl, max: 8 });
  const prismaTransaction = (work: (tx: TestbedTx) => Promise<unknown>, { timeoutMs }: { timeoutMs: number }) =>
    prisma.$transaction(work, { maxWait: 10_000, timeout: timeoutMs });
  const transport = new KafkaInboxTransport<TestbedTx | PgTx>({
    consumerName: c.consumerName,
    kafka: createKafka({ clientId: 'bench-consumer', brokers: c.brokers }),
    topicPrefix: c.topicPrefix,
    transaction: (c.transactions === 'pg' ? pgTransaction(pool) : prismaTransaction) as never,
  });
  const app = await NestFactory.createMicroservice(LedgerBenchModule, {
    strategy: transport,
    logger: ['error', 'warn'],
  });
  app.useGlobalFilters(new RethrowRpcExceptionFilter());
  await app.listen();
  return async () => {
    await app.close();
    await prisma.$disconnect();
    await pool.end();
  };
}

async function startRawConsumer(
  c: Extract<WorkerConfig, { role: 'raw-consumer' }>,
  recorder: Recorder,
): Promise<() => Promise<void>> {
  const consumer = createKafka({ clientId: 'bench-raw-consumer', brokers: c.brokers }).consumer({
    groupId: c.groupId,
  });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.connect();
  await consumer.subscribe({ topics: [c.topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    // The same parallelism as KafkaInboxTransport's default, so the ceiling is comparable.
    partitionsConsumedConcurrently: 3,
    eachBatch: async ({ batch, resolveOffset }) => {
      if (c.report === 'each') for (const m of batch.messages) recorder.seen(messageIdOf(m.headers));
      for (const m of batch.messages) resolveOffset(m.offset);
      if (c.commitPerBatch && batch.messages.length > 0) {
        const next = (BigInt(batch.lastOffset()) + 1n).toString();
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
      }
      // Counted once committed: the batch is done only then.
      if (c.report === 'count') recorder.counted(batch.messages.length);
    },
  });
  await joined;
  return () => consumer.disconnect();
}

const recorder = new Recorder(config.role === 'relay' ? 'count' : config.report);
// An orphan would keep a consumer group member or the relay's leader lock alive.
process.on('disconnect', () => process.exit(1));
const stop =
  config.role === 'relay'
    ? await startRelay(config)
    : config.role === 'inbox-consumer'
      ? await startInboxConsumer(config, recorder)
      : await startRawConsumer(config, recorder);
process.on('message', (command: WorkerCommand) => {
  if (command.kind !== 'stop') return;
  void stop().finally(() => {
    recorder.close();
    process.send!({ kind: 'stopped' } satisfies WorkerReport, () => process.exit(0));
  });
});
send({ kind: 'ready' });
