/**
 * The saga benchmark: sagas per second at saturation, latency at 10% and 50% of that rate, CPU
 * per saga and memory per service, and the machine's ceiling for one saga step (pgbench: its rate
 * and its CPU per transaction) measured in the same run; then the same figures again once a
 * history of finished sagas is in the databases. The four services run as real processes (the
 * e2e harness), on their own scratch databases and topics. Every figure is a ratio to something
 * measured in this run; it never fails on speed: a shared two-core machine is too noisy to gate on.
 *
 *   pnpm build && node --enable-source-maps e2e/dist/bench/saga.bench.js [--quick] [--json] [--history <n>] [--cpu-prof]
 *
 * Needs Kafka at KAFKA_BROKERS (default 127.0.0.1:9092; `scripts/kafka.sh start`), PostgreSQL
 * (DATABASE_ADMIN_URL) and `pgbench` on PATH; removes its databases and topics at the end.
 */
import './quiet-warnings.js';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '@order-saga/config';
import { createScratchDatabase } from '@order-saga/database';
import { testInfra } from '@order-saga/testing';
import { SagaSystem, services, type Service } from '../saga/system.js';
import { stages as cpuStages, summarizeCpuProfiles, type ProfileSummary } from './cpu-profile.js';
import { loadHistory, type HistoryLoad } from './history.js';
import { OrderMix, unexpectedOutcomes } from './order-mix.js';
import {
  coresUsed,
  cpuSnapshot,
  findProcesses,
  machineCpu,
  postgresProcess,
  rssMb,
  type Classifier,
} from './process-cpu.js';
import {
  closedLoop,
  completionRate,
  epochMs,
  openLoop,
  TerminalWatch,
  type LoadRun,
  type Outcome,
} from './saga-load.js';
import { removeTopics } from './topics.js';
import { sagaStages, transactionsPerSaga, type SagaStages } from './saga-stages.js';
import { pgbenchSagaStepTps } from './saga-step-pgbench.js';
import { formatMarkdownTable, formatTable, machineInfo, summarize, type LatencySummary, type Row } from './stats.js';

const count = (value: string): number => {
  const n = Number(value.replaceAll(/[_,]/g, ''));
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a whole number of orders (0: none)');
  return n;
};

const options = new Command('bench:saga')
  .description(
    'Sagas per second at saturation, latency at 10% and 50% load, CPU per saga and memory, beside a pgbench ceiling for one saga step; again with a history of finished sagas',
  )
  .option('--quick', 'a short run (a few minutes) for a smoke test; figures are rougher')
  .option('--json', 'also print every figure as one JSON line')
  .option(
    '--history <orders>',
    'finished sagas loaded before the second pass (0 skips it); default 1,000,000, 20,000 with --quick',
    count,
  )
  .option(
    '--cpu-prof',
    'after the figures, profile every service for one more saturated window and print where the CPU goes, by stage',
  )
  .addHelpText(
    'after',
    '\nExample:\n  pnpm build && pnpm bench:saga --quick --json --history 20000\n\nNeeds Kafka, PostgreSQL and pgbench; creates and removes its own databases and topics.',
  )
  .parse()
  .opts<{ quick?: boolean; json?: boolean; history?: number; cpuProf?: boolean }>();

const plan = options.quick
  ? {
      clients: [8, 24],
      warmupMs: 1_000,
      measureMs: 4_000,
      latencyWarmupMs: 1_000,
      latencyMs: 5_000,
      pgbenchSeconds: 5,
      history: options.history ?? 20_000,
    }
  : {
      clients: [4, 8, 16, 32, 64],
      warmupMs: 2_000,
      measureMs: 8_000,
      latencyWarmupMs: 2_000,
      latencyMs: 20_000,
      pgbenchSeconds: 10,
      history: options.history ?? 1_000_000,
    };
// The performance issue's targets; "flat as history grows" is its own: with 1,000,000 historical
// orders, throughput ≥ 0.8× and p99 ≤ 1.25× of the empty-database run.
const targets = {
  ceilingRatio: 0.3,
  cpuPerSagaRatio: 3,
  p99At50Ms: 150,
  p99GrowthAt50: 2,
  historyThroughputRatio: 0.8,
  historyP99Ratio: 1.25,
};

/**
 * Transactions a happy saga commits, in every database: the POST; the order service's handler for
 * each of the three replies (StockReserved, PaymentCharged, ShipmentCreated); the participants'
 * handlers for ReserveStock, ChargePayment, CreateShipment, and inventory's for OrderConfirmed
 * (it turns the reservation into shipped stock). The run counts them again from the inbox rows
 * of confirmed sagas and prints that beside this number.
 */
const TRANSACTIONS_PER_HAPPY_SAGA = 8;

// The order service's defaults (2,000 sagas in flight, 5,000 unpublished outbox rows) would shed
// load at saturation and cap the very figure we measure; any 429 seen anyway is counted.
const BACKPRESSURE_BOUNDS = { ORDER_MAX_SAGAS_IN_FLIGHT: '1000000', ORDER_MAX_UNPUBLISHED_OUTBOX: '1000000' };

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const startedAt = Date.now();
const log = (line: string) =>
  console.error(`[bench +${((Date.now() - startedAt) / 1000).toFixed(1)}s] ${line}`);

interface Saturation {
  clients: number;
  sagasPerSecond: number;
  run: LoadRun;
  /** Cores used per process group during the measured window. */
  cores: Map<string, number>;
  machineCores: number;
  /** Peak resident memory of each service during the measured window, MB. */
  rssMb: Map<Service, number>;
}

interface Latency {
  fraction: number;
  askedRate: number;
  achievedRate: number;
  latency: LatencySummary;
  post: LatencySummary;
  run: LoadRun;
  measured: Outcome[];
}

const latencyOf = (outcomes: Outcome[], from: (o: Outcome) => number, to: (o: Outcome) => number) =>
  summarize(outcomes.map((o) => (to(o) - from(o)) * 1000));

/** Orders per status, e.g. `CONFIRMED 71%, CANCELLED 20%, REJECTED 9%`. */
function statusMix(outcomes: Outcome[]): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) counts.set(o.status, (counts.get(o.status) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([status, n]) => `${status} ${Math.round((100 * n) / outcomes.length)}%`)
    .join(', ');
}

const stageRows: [keyof Omit<SagaStages, 'sagas'>, string][] = [
  ['request', 'request → order transaction starts'],
  ['orderTxAndRelay', 'order transaction start → its relay marked the command sent'],
  ['toParticipant', 'command sent → participant transaction starts (Kafka, consumer)'],
  ['participantTxAndRelay', 'participant transaction start → its relay marked the reply sent'],
  ['toOrder', 'reply sent → order transaction starts (Kafka, consumer)'],
  ['finish', 'last reply handled → order terminal'],
  ['total', 'total (same sagas)'],
];

/** The `q` quantile of `values` (plain sort: stage sums can be slightly negative, which a histogram refuses). */
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** The services' processes, by the classifier's group names (`order service`, …). */
async function servicePids(classify: Classifier): Promise<Map<Service, number>> {
  const found = await findProcesses(classify);
  return new Map(
    services.map((service) => {
      const pid = found.get(`${service} service`)?.[0];
      if (pid === undefined) throw new Error(`no process found for the ${service} service`);
      return [service, pid];
    }),
  );
}

/** Samples each process's resident memory every 500 ms for `durationMs`; the peak of each, MB. */
async function peakRss(pids: Map<Service, number>, durationMs: number): Promise<Map<Service, number>> {
  const peak = new Map<Service, number>();
  const until = performance.now() + durationMs;
  while (performance.now() < until) {
    for (const [service, pid] of pids) {
      const mb = await rssMb(pid);
      if (mb !== null) peak.set(service, Math.max(mb, peak.get(service) ?? 0));
    }
    await sleep(Math.min(500, Math.max(0, until - performance.now())));
  }
  return peak;
}

async function measureSaturation(
  system: SagaSystem,
  watch: TerminalWatch,
  mix: OrderMix,
  classify: Classifier,
  clients: number,
): Promise<Saturation> {
  const pids = await servicePids(classify);
  const running = closedLoop(system, watch, mix, clients, plan.warmupMs + plan.measureMs);
  await sleep(plan.warmupMs);
  const [cpuBefore, machineBefore, from] = [await cpuSnapshot(classify), await machineCpu(), epochMs()];
  const rss = await peakRss(pids, plan.measureMs);
  const [cpuAfter, machineAfter, to] = [await cpuSnapshot(classify), await machineCpu(), epochMs()];
  const run = await running;
  const seconds = (to - from) / 1000;
  return {
    clients,
    sagasPerSecond: completionRate(run.outcomes, from, to),
    run,
    cores: coresUsed(cpuBefore, cpuAfter, seconds),
    machineCores: (machineAfter.busy - machineBefore.busy) / seconds,
    rssMb: rss,
  };
}

/** Groups of the system under load (the benchmark's own clients are not part of it). */
const isSystem = (group: string) => !group.startsWith('benchmark');

/** CPU milliseconds per saga, summed over the system's processes, from the cores they kept busy. */
const cpuMsPerSaga = (s: Saturation) =>
  ([...s.cores].filter(([group]) => isSystem(group)).reduce((sum, [, cores]) => sum + cores, 0) * 1000) /
  s.sagasPerSecond;

async function measureLatency(
  system: SagaSystem,
  watch: TerminalWatch,
  mix: OrderMix,
  fraction: number,
  saturated: number,
): Promise<Latency> {
  const askedRate = saturated * fraction;
  const run = await openLoop(system, watch, mix, askedRate, plan.latencyWarmupMs + plan.latencyMs);
  const measured = run.outcomes.filter((o) => o.startMs >= run.fromMs + plan.latencyWarmupMs);
  return {
    fraction,
    askedRate,
    achievedRate: measured.length / (plan.latencyMs / 1000),
    latency: latencyOf(
      measured,
      (o) => o.startMs,
      (o) => o.terminalMs,
    ),
    post: latencyOf(
      measured,
      (o) => o.startMs,
      (o) => o.acceptedMs,
    ),
    run,
    measured,
  };
}

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/**
 * One more saturated window with the V8 profiler in every service: they are restarted with
 * profile-on-signal.preload.ts, warmed up, and asked for their profile (SIGUSR2) after the window.
 */
async function profileServices(
  system: SagaSystem,
  watch: TerminalWatch,
  mix: OrderMix,
  classify: Classifier,
  clients: number,
  dir: string,
): Promise<Map<Service, ProfileSummary>> {
  const preload = {
    NODE_OPTIONS: `--import ${repoRoot}/e2e/dist/bench/profile-on-signal.preload.js`,
    BENCH_CPU_PROFILE_DIR: dir,
  };
  await Promise.all(
    services.map(async (service) => {
      await system.processes.get(service)!.stop();
      await system.startService(service, preload);
    }),
  );
  const pids = await servicePids(classify);
  const running = closedLoop(system, watch, mix, clients, 2 * plan.warmupMs + plan.measureMs);
  await sleep(2 * plan.warmupMs);
  const fromUs = monotonicUs();
  await sleep(plan.measureMs);
  const toUs = monotonicUs();
  await running;
  const profiles = new Map<Service, ProfileSummary>();
  for (const [service, pid] of pids) {
    process.kill(pid, 'SIGUSR2');
    const file = `${pid}.cpuprofile`;
    for (let waited = 0; !(await readdir(dir)).includes(file); waited += 100) {
      if (waited > 20_000) throw new Error(`the ${service} service wrote no CPU profile into ${dir}`);
      await sleep(100);
    }
    profiles.set(service, await summarizeCpuProfiles([join(dir, file)], service, fromUs, toUs));
    memory.set(service, memoryOf(JSON.parse(await readFile(join(dir, `${pid}.memory.json`), 'utf8')), pid));
  }
  return profiles;
}

/** A service's resident memory at the end of the profiled window, split by what holds it, MB. */
interface MemoryBreakdown {
  rss: number;
  /** V8's heap: JavaScript objects (new space: young objects; old space; code; large objects). */
  heapUsed: number;
  heapUnused: number;
  /** Outside V8's heap: Buffers, ArrayBuffers, WebAssembly memory (Prisma's query compiler). */
  external: number;
  /** Pages of the node binary and shared libraries (RssFile). */
  mappedFiles: number;
  /** The rest: the allocator's arenas, thread stacks, V8's own metadata. */
  other: number;
  spaces: Record<string, number>;
}

const memory = new Map<Service, MemoryBreakdown>();
const MB = 1024 * 1024;

function memoryOf(
  { usage, spaces }: { usage: NodeJS.MemoryUsage; spaces: Record<string, number> },
  pid: number,
): MemoryBreakdown {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssFileKb = Number(/RssFile:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const mappedFiles = (rssFileKb * 1024) / MB;
  const rss = usage.rss / MB;
  const heapUsed = usage.heapUsed / MB;
  const heapUnused = (usage.heapTotal - usage.heapUsed) / MB;
  const external = usage.external / MB;
  return {
    rss,
    heapUsed,
    heapUnused,
    external,
    mappedFiles,
    other: rss - heapUsed - heapUnused - external - mappedFiles,
    spaces: Object.fromEntries(Object.entries(spaces).map(([name, bytes]) => [name, bytes / MB])),
  };
}

const num = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ms = (value: number) => `${value.toFixed(1)} ms`;
const pct = (value: number) => `${Math.round(value * 100)}%`;

const loadBefore = loadavg()[0]!;

/** Cores used by each group over the middle of a run of `seconds` (its first and last second left out). */
async function coresDuringRun(classify: Classifier, seconds: number): Promise<Map<string, number>> {
  await sleep(1000);
  const [before, from] = [await cpuSnapshot(classify), performance.now()];
  await sleep(Math.max(1000, (seconds - 2) * 1000));
  const [after, to] = [await cpuSnapshot(classify), performance.now()];
  return coresUsed(before, after, (to - from) / 1000);
}

log(`pgbench: one saga step's transaction, 8 clients, ${plan.pgbenchSeconds} s, on a scratch order database`);
const stepDatabase = await createScratchDatabase({
  adminUrl: testInfra().adminDatabaseUrl,
  prefix: 'bench_saga_step',
  schemaPath: `${repoRoot}/prisma/order/schema.prisma`,
  migrationsDir: `${repoRoot}/prisma/order/migrations`,
});
let pgbenchCores = new Map<string, number>();
const ceiling = await pgbenchSagaStepTps(stepDatabase.url, plan.pgbenchSeconds, {
  // pgbench, the sessions it drives, and the server's background processes, counted the same way
  // as the system's: CPU per transaction = cores busy ÷ transactions per second.
  whileRunning: async (pgbenchPid) => {
    pgbenchCores = await coresDuringRun(({ pid, cmdline }) => {
      if (pid === pgbenchPid) return 'pgbench';
      const pg = postgresProcess(cmdline, [stepDatabase.name]);
      return pg === 'session' ? 'PostgreSQL, pgbench sessions' : pg && 'PostgreSQL, background (shared)';
    }, plan.pgbenchSeconds);
  },
}).finally(() => stepDatabase.drop());
const pgbenchCpuMsPerTx = ([...pgbenchCores.values()].reduce((a, b) => a + b, 0) * 1000) / ceiling.tps;
log(`pgbench: ${num(ceiling.tps)} tx/s, ${num(pgbenchCpuMsPerTx, 3)} CPU-ms per transaction`);

const profileDir = options.cpuProf ? await mkdtemp(join(tmpdir(), 'bench-saga-prof-')) : undefined;
log('starting the four services');
const system = await SagaSystem.start('bench', BACKPRESSURE_BOUNDS);
const databaseNames = [...system.databases.values()].map((db) => db.name);
const classify: Classifier = ({ pid, ppid, cmdline }) => {
  if (pid === process.pid) return 'benchmark (clients, watcher)';
  const service = ppid === process.pid ? /apps\/(\w+)\/dist\/main\.js/.exec(cmdline)?.[1] : undefined;
  if (service) return `${service} service`;
  const pg = postgresProcess(cmdline, databaseNames);
  if (pg) return pg === 'session' ? 'PostgreSQL, our sessions' : 'PostgreSQL, background (shared)';
  return cmdline.includes('kafka.Kafka') ? 'Kafka broker (shared)' : null;
};
// The retention the services run with (their defaults unless the environment says otherwise):
// the history stays inside it.
const serviceConfig = loadConfig({
  ...process.env,
  ...BACKPRESSURE_BOUNDS,
  SERVICE_NAME: 'order',
  DATABASE_URL: system.databases.get('order')!.url,
  KAFKA_BROKERS: testInfra().kafkaBrokers.join(','),
});
const watch = new TerminalWatch(system.db('order'));
watch.start();
const mix = new OrderMix();
const allOutcomes: Outcome[] = [];
const shedOf = (...runs: LoadRun[]) => runs.reduce((sum, r) => sum + r.shed, 0);
try {
  // JIT, pools, consumer group joins and first fetches: not part of any figure.
  log('warm-up');
  const warmup = await closedLoop(system, watch, mix, 8, plan.warmupMs * 2);
  allOutcomes.push(...warmup.outcomes);

  const saturation: Saturation[] = [];
  for (const clients of plan.clients) {
    const result = await measureSaturation(system, watch, mix, classify, clients);
    saturation.push(result);
    allOutcomes.push(...result.run.outcomes);
    log(
      `closed loop, ${clients} clients: ${num(result.sagasPerSecond, 1)} sagas/s, machine ${num(result.machineCores, 2)} cores busy`,
    );
  }
  const best = saturation.reduce((a, b) => (b.sagasPerSecond > a.sagasPerSecond ? b : a));

  const latencies: Latency[] = [];
  for (const fraction of [0.1, 0.5]) {
    log(
      `open loop at ${pct(fraction)} of ${num(best.sagasPerSecond, 1)} sagas/s for ${(plan.latencyWarmupMs + plan.latencyMs) / 1000} s`,
    );
    const result = await measureLatency(system, watch, mix, fraction, best.sagasPerSecond);
    latencies.push(result);
    allOutcomes.push(...result.run.outcomes);
    log(
      `  p50 ${ms(result.latency.p50Ms)}, p99 ${ms(result.latency.p99Ms)} over ${result.latency.count} sagas`,
    );
  }
  const [light, half] = latencies as [Latency, Latency];
  // Read before the history goes in: these queries look rows up by aggregate id, which no index serves.
  const [lightStages, stages] = [
    await sagaStages(system, light.measured),
    await sagaStages(system, half.measured),
  ];
  const confirmedIds = half.measured
    .filter((o) => o.kind === 'happy' && o.status === 'CONFIRMED')
    .map((o) => o.orderId);
  const measuredTransactions = await transactionsPerSaga(system, confirmedIds);

  let history:
    | {
        load: HistoryLoad;
        saturation: Saturation;
        half: Latency;
        stages: SagaStages;
        throughputRatio: number;
        p99Ratio: number;
      }
    | undefined;
  if (plan.history > 0) {
    log(`loading a history of ${num(plan.history)} finished sagas into the four databases`);
    const load = await loadHistory(system, plan.history, {
      inboxHours: serviceConfig.inboxRetentionHours,
      outboxHours: serviceConfig.outboxRetentionHours,
      idempotencyKeyHours: serviceConfig.idempotencyKeyTtlHours,
    });
    log(
      `  loaded in ${num(load.loadSeconds, 1)} s, VACUUM ANALYZE ${num(load.vacuumSeconds, 1)} s: ${Object.entries(
        load.rows,
      )
        .map(([table, n]) => `${table} ${num(n)}`)
        .join(', ')}`,
    );
    const saturated = await measureSaturation(system, watch, mix, classify, best.clients);
    allOutcomes.push(...saturated.run.outcomes);
    log(`with history, closed loop, ${best.clients} clients: ${num(saturated.sagasPerSecond, 1)} sagas/s`);
    // The same asked rate as the empty pass's 50% run, so the two p99s answer the same load.
    log(`with history, open loop at ${num(half.askedRate, 1)} sagas/s`);
    const halfWithHistory = await measureLatency(system, watch, mix, 0.5, best.sagasPerSecond);
    allOutcomes.push(...halfWithHistory.run.outcomes);
    log(`  p50 ${ms(halfWithHistory.latency.p50Ms)}, p99 ${ms(halfWithHistory.latency.p99Ms)}`);
    history = {
      load,
      saturation: saturated,
      half: halfWithHistory,
      stages: await sagaStages(system, halfWithHistory.measured),
      throughputRatio: saturated.sagasPerSecond / best.sagasPerSecond,
      p99Ratio: halfWithHistory.latency.p99Ms / half.latency.p99Ms,
    };
  }

  const [pending] = await system.query<{ n: number }>(
    'order',
    `SELECT count(*)::int AS n FROM "order" WHERE status = 'PENDING'`,
  );
  const historyRuns = history ? [history.saturation.run, history.half.run] : [];
  const unfinished = [...saturation.map((s) => s.run), light.run, half.run, ...historyRuns].reduce(
    (sum, run) => sum + run.unfinished,
    0,
  );
  const shed = shedOf(warmup, ...saturation.map((s) => s.run), light.run, half.run, ...historyRuns);
  const unexpected = unexpectedOutcomes(allOutcomes);
  if (profileDir)
    log(`restarting the services with the CPU profiler for one more closed loop at ${best.clients} clients`);
  const profiles = profileDir
    ? await profileServices(system, watch, mix, classify, best.clients, profileDir)
    : undefined;

  const ratio = (best.sagasPerSecond * TRANSACTIONS_PER_HAPPY_SAGA) / ceiling.tps;
  const ourCpuMs = cpuMsPerSaga(best);
  const pgbenchCpuMs = pgbenchCpuMsPerTx * TRANSACTIONS_PER_HAPPY_SAGA;
  const cpuRatio = ourCpuMs / pgbenchCpuMs;
  const p99Bound = Math.min(targets.p99At50Ms, targets.p99GrowthAt50 * light.latency.p99Ms);
  const rssText = (rss: Map<Service, number>) =>
    services.map((service) => `${service} ${num(rss.get(service) ?? Number.NaN)}`).join(', ');
  const rows: Row[] = [
    ...saturation.map((s) => ({
      figure: `closed loop, ${s.clients} clients`,
      value: `${num(s.sagasPerSecond, 1)} sagas/s`,
    })),
    {
      figure: `sagas/s at saturation (best: ${best.clients} clients)`,
      value: `${num(best.sagasPerSecond, 1)} sagas/s`,
    },
    { figure: '  outcomes at saturation', value: statusMix(best.run.outcomes) },
    {
      figure: `ceiling: pgbench saga step (-c 8 -j 2 -M prepared, ${ceiling.seconds} s)`,
      value: `${num(ceiling.tps)} tx/s`,
    },
    {
      figure: `sagas/s × ${TRANSACTIONS_PER_HAPPY_SAGA} tx/saga ÷ ceiling`,
      value: ratio.toFixed(3),
      target: `≥ ${targets.ceilingRatio}`,
      met: ratio >= targets.ceilingRatio,
    },
    { figure: '  tx per confirmed saga, counted from inbox rows', value: num(measuredTransactions, 2) },
    {
      figure: 'CPU-ms per saga at saturation (services, PostgreSQL, Kafka)',
      value: `${num(ourCpuMs, 2)} ms`,
    },
    {
      figure: `pgbench CPU-ms for ${TRANSACTIONS_PER_HAPPY_SAGA} saga-step tx (pgbench, its sessions, PostgreSQL background)`,
      value: `${num(pgbenchCpuMs, 2)} ms`,
    },
    {
      figure: 'CPU per saga ÷ pgbench CPU for the same transactions',
      value: cpuRatio.toFixed(2),
      target: `≤ ${targets.cpuPerSagaRatio}`,
      met: cpuRatio <= targets.cpuPerSagaRatio,
    },
    ...latencies.flatMap((l) => [
      {
        figure: `${pct(l.fraction)} load: asked / achieved rate`,
        value: `${num(l.askedRate, 1)} / ${num(l.achievedRate, 1)} /s`,
      },
      { figure: `${pct(l.fraction)} load: POST → terminal p50`, value: ms(l.latency.p50Ms) },
      {
        figure: `${pct(l.fraction)} load: POST → terminal p99`,
        value: ms(l.latency.p99Ms),
        ...(l === half
          ? {
              target: `≤ ${ms(p99Bound)} (min of ${targets.p99At50Ms}, 2 × 10% p99)`,
              met: l.latency.p99Ms <= p99Bound,
            }
          : {}),
      },
      {
        figure: `${pct(l.fraction)} load: POST /orders answered, p50 / p99`,
        value: `${ms(l.post.p50Ms)} / ${ms(l.post.p99Ms)}`,
      },
    ]),
    {
      figure:
        `stages, p50 of the sum over 3 steps, 10% / 50% load${history ? ' / 50% with history' : ''}` +
        ` (${[lightStages, stages, ...(history ? [history.stages] : [])].map((st) => st.sagas).join(' / ')} confirmed sagas):`,
      value: '',
    },
    ...stageRows.map(([key, label]) => ({
      figure: `  ${label}`,
      value: [lightStages, stages, ...(history ? [history.stages] : [])]
        .map((st) => ms(quantile(st[key], 0.5)))
        .join(' / '),
    })),
    {
      figure: `cores busy at saturation (machine: ${num(best.machineCores, 2)} of ${cpus().length}):`,
      value: '',
    },
    ...[...best.cores].map(([group, cores]) => ({ figure: `  ${group}`, value: num(cores, 2) })),
    { figure: 'peak RSS at saturation, MB', value: rssText(best.rssMb) },
    ...(history
      ? [
          {
            figure: `history: ${num(history.load.orders)} finished sagas (${history.load.from.slice(0, 10)} .. ${history.load.to.slice(0, 10)})`,
            value: `loaded in ${num(history.load.loadSeconds, 1)} s + ${num(history.load.vacuumSeconds, 1)} s VACUUM ANALYZE`,
          },
          {
            figure: `  with history, closed loop at the best client count (${best.clients})`,
            value: `${num(history.saturation.sagasPerSecond, 1)} sagas/s`,
          },
          {
            figure: '  with history ÷ empty, sagas/s',
            value: history.throughputRatio.toFixed(2),
            target: `≥ ${targets.historyThroughputRatio}`,
            met: history.throughputRatio >= targets.historyThroughputRatio,
          },
          {
            figure: `  with history, 50% load (same ${num(half.askedRate, 1)}/s asked): p50 / p99`,
            value: `${ms(history.half.latency.p50Ms)} / ${ms(history.half.latency.p99Ms)}`,
          },
          {
            figure: '  with history ÷ empty, p99 at 50% load',
            value: history.p99Ratio.toFixed(2),
            target: `≤ ${targets.historyP99Ratio}`,
            met: history.p99Ratio <= targets.historyP99Ratio,
          },
          {
            figure: '  with history, CPU-ms per saga',
            value: `${num(cpuMsPerSaga(history.saturation), 2)} ms`,
          },
          { figure: '  with history, peak RSS, MB', value: rssText(history.saturation.rssMb) },
        ]
      : [{ figure: 'history pass', value: 'skipped (--history 0)' }]),
    { figure: 'POST /orders answered 429 (whole run)', value: String(shed) },
    {
      figure: 'orders with an unexpected outcome / unfinished / still PENDING',
      value: `${unexpected} / ${unfinished} / ${pending!.n}`,
    },
  ];
  console.log(formatTable(rows));
  console.log(
    `machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, load average ${loadBefore.toFixed(2)} before / ${loadavg()[0]!.toFixed(2)} after` +
      `; backpressure bounds raised to ${BACKPRESSURE_BOUNDS.ORDER_MAX_SAGAS_IN_FLIGHT} sagas / ${BACKPRESSURE_BOUNDS.ORDER_MAX_UNPUBLISHED_OUTBOX} outbox rows` +
      (history
        ? `; the history pass measures only the best client count of the empty pass and the 50% open loop`
        : '') +
      (options.quick ? '; --quick run' : ''),
  );
  if (profiles) {
    const profiled = [...profiles];
    console.log(
      `\nCPU by stage, share of each service's busy main thread: closed loop, ${best.clients} clients, ${plan.measureMs / 1000} s` +
        (history ? `, with the history loaded` : '') +
        '\n',
    );
    console.log(
      formatMarkdownTable(
        ['stage', ...profiled.map(([service]) => service)],
        [
          ...cpuStages.map((stage) => [
            stage,
            ...profiled.map(([, p]) => pct(p.stages.find((s) => s.name === stage)?.share ?? 0)),
          ]),
          ['busy CPU-seconds', ...profiled.map(([, p]) => num(p.busySeconds, 1))],
        ],
      ),
    );
    if (memory.size > 0) {
      const held = [...memory];
      console.log(`\nResident memory of each service at the end of the profiled window, MB\n`);
      const line = (label: string, pick: (m: MemoryBreakdown) => number) => [
        label,
        ...held.map(([, m]) => num(pick(m))),
      ];
      console.log(
        formatMarkdownTable(
          ['held by', ...held.map(([service]) => service)],
          [
            line('RSS', (m) => m.rss),
            line('V8 heap, live objects', (m) => m.heapUsed),
            line('  of which old space', (m) => m.spaces['old_space'] ?? 0),
            line('  of which code', (m) => m.spaces['code_space'] ?? 0),
            line('V8 heap, reserved but free', (m) => m.heapUnused),
            line('outside V8 (Buffers, WebAssembly)', (m) => m.external),
            line('node binary and libraries (file pages)', (m) => m.mappedFiles),
            line('other (allocator, stacks, V8 metadata)', (m) => m.other),
          ],
        ),
      );
    }
    for (const [service, profile] of profiles) {
      console.log(
        `\nCPU profile, ${service} service, ${best.clients} clients: ${num(profile.busySeconds, 1)} s busy, ${num(profile.idleSeconds, 1)} s idle`,
      );
      console.log(formatTable(profile.owners.map((h) => ({ figure: h.name, value: pct(h.share) }))));
      if (service === 'order')
        console.log(formatTable(profile.functions.map((h) => ({ figure: h.name, value: pct(h.share) }))));
    }
  }
  if (options.json) {
    console.log(
      JSON.stringify({
        bench: 'saga',
        quick: !!options.quick,
        machine: machineInfo(loadBefore),
        ceilingRatio: ratio,
        cpuPerSagaRatio: cpuRatio,
        p99At10Ms: light.latency.p99Ms,
        p99At50Ms: half.latency.p99Ms,
        historyThroughputRatio: history?.throughputRatio ?? null,
        historyP99Ratio: history?.p99Ratio ?? null,
        rssMb: Object.fromEntries(best.rssMb),
        saturation: saturation.map((s) => ({
          clients: s.clients,
          sagasPerSecond: s.sagasPerSecond,
          machineCores: s.machineCores,
          cores: Object.fromEntries(s.cores),
          rssMb: Object.fromEntries(s.rssMb),
        })),
        best: {
          clients: best.clients,
          sagasPerSecond: best.sagasPerSecond,
          outcomes: statusMix(best.run.outcomes),
        },
        pgbenchTps: ceiling.tps,
        pgbenchCores: Object.fromEntries(pgbenchCores),
        pgbenchCpuMsPerTransaction: pgbenchCpuMsPerTx,
        cpuMsPerSaga: ourCpuMs,
        pgbenchCpuMsPerSagaTransactions: pgbenchCpuMs,
        transactionsPerHappySaga: TRANSACTIONS_PER_HAPPY_SAGA,
        measuredTransactionsPerConfirmedSaga: measuredTransactions,
        latency: latencies.map((l) => ({
          fraction: l.fraction,
          askedRate: l.askedRate,
          achievedRate: l.achievedRate,
          ms: l.latency,
          postMs: l.post,
        })),
        stagesP50Ms: [lightStages, stages, ...(history ? [history.stages] : [])].map((st) =>
          Object.fromEntries(stageRows.map(([key]) => [key, quantile(st[key], 0.5)])),
        ),
        history: history && {
          orders: history.load.orders,
          from: history.load.from,
          to: history.load.to,
          loadSeconds: history.load.loadSeconds,
          vacuumSeconds: history.load.vacuumSeconds,
          rows: history.load.rows,
          clients: best.clients,
          sagasPerSecond: history.saturation.sagasPerSecond,
          cores: Object.fromEntries(history.saturation.cores),
          cpuMsPerSaga: cpuMsPerSaga(history.saturation),
          rssMb: Object.fromEntries(history.saturation.rssMb),
          latencyAt50: {
            askedRate: history.half.askedRate,
            achievedRate: history.half.achievedRate,
            ms: history.half.latency,
            postMs: history.half.post,
          },
        },
        cpuStages:
          profiles &&
          Object.fromEntries(
            [...profiles].map(([service, p]) => [
              service,
              Object.fromEntries(p.stages.map((s) => [s.name, s.share])),
            ]),
          ),
        memoryMb: memory.size > 0 ? Object.fromEntries(memory) : undefined,
        shed,
        unexpected,
        unfinished,
        pending: pending!.n,
        met: {
          ceilingRatio: ratio >= targets.ceilingRatio,
          cpuPerSagaRatio: cpuRatio <= targets.cpuPerSagaRatio,
          p99At50: half.latency.p99Ms <= p99Bound,
          historyThroughputRatio: history ? history.throughputRatio >= targets.historyThroughputRatio : null,
          historyP99Ratio: history ? history.p99Ratio <= targets.historyP99Ratio : null,
        },
      }),
    );
  }
} finally {
  await watch.stop();
  await system.stop();
  await removeTopics(system.prefix).catch((error: unknown) =>
    log(`could not remove topics and groups ${system.prefix}*: ${String(error)}`),
  );
  if (profileDir) await rm(profileDir, { recursive: true, force: true });
}
// kafkajs and pg leave sockets and timers behind after their clients close.
process.exit(0);
