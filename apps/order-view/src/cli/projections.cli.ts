#!/usr/bin/env node
import { Command, Option } from 'commander';
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { topicName } from '@order-saga/contracts';
import { createKafka } from '@order-saga/outbox';
import {
  RebuildInProgressError,
  RetentionGapError,
  generationPosition,
  generations,
  rebuild,
  topicKeysOf,
  type AnyProjection,
  type GenerationPosition,
} from '@order-saga/projections';
import pg from 'pg';
import { projections } from '../projections.js';

const program = new Command('projections')
  .description('List, rebuild and replay the read side projections (blue/green: the live generation serves meanwhile).')
  .addOption(new Option('--database-url <url>', "the view database").env('DATABASE_URL').makeOptionMandatory())
  .addOption(new Option('--brokers <list>', 'Kafka brokers').env('KAFKA_BROKERS').default('127.0.0.1:9092'))
  .addOption(new Option('--prefix <prefix>', 'topic prefix').env('KAFKA_TOPIC_PREFIX').default(''))
  .option('--json', 'machine-readable output')
  .addHelpText(
    'after',
    `
Examples:
  DATABASE_URL=postgresql://order_view:order_view@127.0.0.1:5432/order_view pnpm projections list
  pnpm projections rebuild order-summary
  pnpm projections replay order-summary --from 2026-12-01T10:00:00Z
  pnpm projections replay order-summary --from 0`,
  )
  .showHelpAfterError();

interface GlobalOptions {
  databaseUrl: string;
  brokers: string;
  prefix: string;
  json?: boolean;
}

function context() {
  const opts = program.opts<GlobalOptions>();
  const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 4, application_name: 'pnpm projections' });
  const kafka = createKafka({ clientId: 'projections-cli', brokers: opts.brokers.split(',') });
  return { opts, pool, kafka };
}

function find(name: string): AnyProjection {
  const projection = projections.find((p) => p.name === name);
  if (!projection) return program.error(`unknown projection "${name}": expected one of ${projections.map((p) => p.name).join(', ')}`);
  return projection;
}

program
  .command('list')
  .description('each projection: its generations, position, lag and state (live, rebuilding n%)')
  .action(async () => {
    const { opts, pool, kafka } = context();
    const admin = kafka.admin();
    await admin.connect();
    try {
      const out = [];
      for (const projection of projections) {
        for (const g of await generations(pool, projection.name)) {
          if (g.state === 'retired') continue;
          const position = await generationPosition(pool, admin, projection, g.generation, opts.prefix);
          out.push({
            projection: projection.name,
            generation: g.generation,
            state: g.state === 'building' ? `rebuilding ${(position.progress * 100).toFixed(1)}%` : 'live',
            position: position.partitions.map((p) => `${p.topic}[${p.partition}]@${p.next}`).join(' '),
            lagMessages: position.lagMessages,
            lagSeconds: position.lagSeconds,
          });
        }
      }
      if (opts.json) console.log(JSON.stringify(out));
      else if (out.length === 0) console.log('no projection has a generation yet (order-view back-fills on first start)');
      else for (const row of out) console.log(`${row.projection} g${row.generation}  ${row.state}  lag ${row.lagMessages} messages, ${Number.isFinite(row.lagSeconds) ? row.lagSeconds.toFixed(1) : '?'} s\n  ${row.position}`);
    } finally {
      await admin.disconnect();
      await pool.end();
    }
  });

program
  .command('rebuild')
  .description('build a new generation from the earliest offset, switch readers to it when caught up; resumes an interrupted one')
  .argument('<name>', 'projection name, e.g. order-summary')
  .option('--switch-at-lag <n>', 'switch once at most this many messages remain', '0')
  .option('--rate <events/s>', 'cap the apply rate, to spare the database the live side uses')
  .action(async (name: string, cmd: { switchAtLag: string; rate?: string }) => {
    await run(find(name), { switchAtLag: Number(cmd.switchAtLag), rate: cmd.rate ? Number(cmd.rate) : undefined });
  });

program
  .command('replay')
  .description('re-apply messages from a point (after a projection bug fix): a copy of the live generation, rewound, caught up, switched')
  .argument('<name>', 'projection name')
  .requiredOption('--from <timestamp|offset>', 'ISO 8601 time, or an offset applied to every partition')
  .action(async (name: string, cmd: { from: string }) => {
    const projection = find(name);
    const { opts, kafka } = context();
    let replayFrom: (topic: string, partition: number) => bigint;
    if (/^\d+$/.test(cmd.from)) {
      const offset = BigInt(cmd.from);
      replayFrom = () => offset;
    } else {
      const at = Date.parse(cmd.from);
      if (Number.isNaN(at)) return program.error(`--from ${cmd.from}: expected an ISO 8601 time or an offset`);
      const admin = kafka.admin();
      await admin.connect();
      const offsets = new Map<string, bigint>();
      for (const key of topicKeysOf(projection)) {
        const topic = topicName(key, opts.prefix);
        const [byTime, ends] = await Promise.all([admin.fetchTopicOffsetsByTimestamp(topic, at), admin.fetchTopicOffsets(topic)]);
        for (const end of ends) {
          const found = Number(byTime.find((p) => p.partition === end.partition)?.offset ?? -1);
          offsets.set(`${topic}:${end.partition}`, BigInt(found < 0 ? end.high : found));
        }
      }
      await admin.disconnect();
      replayFrom = (topic, partition) => offsets.get(`${topic}:${partition}`) ?? 0n;
    }
    await run(projection, { switchAtLag: 0, replayFrom });
  });

async function run(
  projection: AnyProjection,
  extra: { switchAtLag: number; rate?: number; replayFrom?: (topic: string, partition: number) => bigint },
): Promise<void> {
  const { opts, pool, kafka } = context();
  const progress = opts.json ? null : new ProgressView();
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await rebuild({
      pool,
      kafka,
      projection,
      topicPrefix: opts.prefix,
      switchAtLag: extra.switchAtLag,
      replayFrom: extra.replayFrom,
      maxEventsPerSecond: extra.rate,
      signal: abort.signal,
      onStart: (generation, resumed) =>
        opts.json
          ? console.log(JSON.stringify({ event: 'start', generation, resumed }))
          : console.error(`${resumed ? 'resuming' : 'building'} ${projection.name} generation ${generation} (the live generation keeps serving)`),
      onProgress: (position) => {
        if (progress) progress.update(position);
        else console.log(JSON.stringify({ event: 'progress', progress: position.progress, lagMessages: position.lagMessages }));
      },
    });
    progress?.stop();
    const rate = result.seconds > 0 ? Math.round(result.applied / result.seconds) : 0;
    if (opts.json) console.log(JSON.stringify({ event: 'done', ...result, eventsPerSecond: rate }));
    else
      console.error(
        result.switched
          ? `${projection.name} generation ${result.generation} is live: ${result.applied} events in ${result.seconds.toFixed(1)} s (${rate} events/s)`
          : `stopped; run the same command again to resume generation ${result.generation}`,
      );
    if (!result.switched) process.exitCode = 130;
  } catch (error) {
    progress?.stop();
    if (error instanceof RebuildInProgressError || error instanceof RetentionGapError) {
      console.error(error.message);
      process.exitCode = error instanceof RebuildInProgressError ? 3 : 4;
    } else throw error;
  } finally {
    await pool.end();
  }
}

/** One bar per partition: applied / retained records, events/s and ETA. */
class ProgressView {
  private readonly multibar = new MultiBar(
    {
      format: ' {name} [{bar}] {percentage}% {value}/{total} | {rate} ev/s | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 20,
      fps: 5,
    },
    Presets.shades_classic,
  );
  private readonly bars = new Map<string, SingleBar>();
  private readonly last = new Map<string, { at: number; value: number; rate: number }>();

  update(position: GenerationPosition): void {
    const now = Date.now();
    for (const p of position.partitions) {
      const key = `${p.topic}[${p.partition}]`;
      const total = Number(p.high - p.low);
      const value = Number(p.high - p.low - p.lag);
      const previous = this.last.get(key);
      // A smoothed rate: one poll's delta is noisy (batches arrive in bursts).
      const instant = previous && now > previous.at ? ((value - previous.value) * 1000) / (now - previous.at) : 0;
      const rate = previous ? previous.rate * 0.7 + instant * 0.3 : 0;
      this.last.set(key, { at: now, value, rate });
      const bar = this.bars.get(key);
      const payload = { name: key.padEnd(28), rate: Math.round(rate) };
      if (bar) {
        bar.setTotal(total);
        bar.update(value, payload);
      } else this.bars.set(key, this.multibar.create(total, value, payload));
    }
  }

  stop(): void {
    this.multibar.stop();
  }
}

try {
  await program.parseAsync();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
