/**
 * The order saga on the engines people pick instead, beside ours, in one run on one machine:
 * order-saga (its four services, through its HTTP API, as bench:saga drives it), DBOS Transact and
 * Restate, each with the same steps on the same tables and seed (src/orders/), and the same four
 * transactions run by pgbench with no engine at all (the floor). For each engine, one after the
 * other: closed loops at 8, 32 and 64 clients (sagas/s), open loops at 10% and 50% of its own
 * saturation (start → terminal latency), the cores each kind of process kept busy, database
 * commits and WAL bytes per saga (the WAL of its own databases, read back with pg_waldump: the
 * server is shared) and what it wrote to storage of its own (Restate's files, our Kafka topics);
 * then the invariants, and each figure as a ratio to ours. It never fails on speed (a shared
 * two-core machine is too noisy to gate on), only on a wrong outcome, a saga that did not end, or
 * a broken invariant.
 *
 *   pnpm build && pnpm bench:peers [--quick] [--json] [--engines order-saga,dbos,restate,pgbench]
 *
 * Needs PostgreSQL (DATABASE_ADMIN_URL), pgbench, and, for order-saga, Kafka (KAFKA_BROKERS);
 * removes its databases, topics and the Restate server's data at the end, also when a run fails
 * or is stopped.
 */
import '@order-saga/e2e/quiet-warnings';
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, InvalidArgumentError } from 'commander';
import {
  closedLoop,
  completionRate,
  coresUsed,
  cpuSnapshot,
  epochMs,
  formatMarkdownTable,
  machineCpu,
  machineInfo,
  OrderMix,
  openLoop,
  postgresProcess,
  summarize,
  TerminalWatch,
  unexpectedOutcomes,
  type Classifier,
  type LoadRun,
  type Outcome,
} from '@order-saga/e2e/harness';
import { testInfra, waitFor } from '@order-saga/testing';
import pg from 'pg';
import { startDbos } from './dbos/dbos-engine.js';
import type { CpuGroup, Engine } from './engine.js';
import { startOrderSaga } from './order-saga-engine.js';
import { invariantViolations } from './orders/invariants.js';
import { pgbenchFloor } from './pgbench-floor.js';
import { startRestate } from './restate/restate-engine.js';
import { countWal, walSource, type WalCount } from './wal-bytes.js';

const engines = {
  'order-saga': startOrderSaga,
  dbos: startDbos,
  restate: startRestate,
} satisfies Record<string, () => Promise<Engine>>;
type EngineKey = keyof typeof engines;
/** `pgbench`: the same transactions with no engine at all, the floor. */
const runnable = [...(Object.keys(engines) as EngineKey[]), 'pgbench'] as const;
type Runnable = (typeof runnable)[number];

const engineList = (value: string): Runnable[] => {
  const keys = value.split(',').map((k) => k.trim());
  const unknown = keys.filter((k) => !(runnable as readonly string[]).includes(k));
  if (unknown.length > 0 || keys.length === 0)
    throw new InvalidArgumentError(`one or more of ${runnable.join(', ')}`);
  return keys as Runnable[];
};

const options = new Command('bench:peers')
  .description(
    "The order saga on order-saga, DBOS Transact and Restate in one run: sagas/s at 8/32/64 clients, p50/p99 at 10% and 50% of each one's saturation, CPU, commits and WAL bytes per saga, and ratios to order-saga",
  )
  .option('--quick', 'a short run of each engine (about a minute in all) for a smoke test; figures are rough')
  .option('--json', 'also print the figures as one JSON line')
  .option('--engines <list>', 'which engines, comma-separated', engineList, [...runnable])
  .addHelpText(
    'after',
    '\nExample:\n  pnpm build && pnpm bench:peers --quick --json --engines dbos,restate\n\nNeeds PostgreSQL, and Kafka for order-saga; creates and removes its own databases, topics and files.',
  )
  .parse()
  .opts<{ quick?: boolean; json?: boolean; engines: Runnable[] }>();

const plan = options.quick
  ? {
      clients: [8, 32, 64],
      warmupMs: 500,
      measureMs: 1_500,
      latencyWarmupMs: 500,
      latencyMs: 2_500,
      pgbenchSeconds: 4,
    }
  : {
      // About a minute per engine, three minutes in all: long enough windows for steady figures,
      // short enough to run on a shared machine.
      clients: [8, 32, 64],
      warmupMs: 2_000,
      measureMs: 6_000,
      latencyWarmupMs: 2_000,
      latencyMs: 8_000,
      pgbenchSeconds: 8,
    };
const cpuGroups: CpuGroup[] = ['engine', 'Node', 'PostgreSQL', 'Kafka'];

const startedAt = Date.now();
const log = (line: string) =>
  console.error(`[peers +${((Date.now() - startedAt) / 1000).toFixed(1)}s] ${line}`);

/** Each database's commit count (`xact_commit`: read-only transactions too), its oid, and the server's WAL position. */
interface DatabaseSnapshot {
  commits: Map<string, number>;
  oids: Map<string, number>;
  lsn: string;
}

async function databaseSnapshot(admin: pg.Client): Promise<DatabaseSnapshot> {
  const { rows } = await admin.query<{ datname: string; oid: number; commits: string; lsn: string }>(
    `SELECT d.datname, d.oid::int AS oid, s.xact_commit AS commits, pg_current_wal_lsn()::text AS lsn
       FROM pg_stat_database s JOIN pg_database d ON d.oid = s.datid`,
  );
  return {
    commits: new Map(rows.map((r) => [r.datname, Number(r.commits)])),
    oids: new Map(rows.map((r) => [r.datname, r.oid])),
    lsn: rows[0]!.lsn,
  };
}

const lsnBytes = (lsn: string): bigint => {
  const [high, low] = lsn.split('/') as [string, string];
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
};

/** Starts counting the WAL `databases` write from a snapshot on (undefined: the WAL is not readable here). */
const countWalFrom = (snapshot: DatabaseSnapshot, databases: string[]): WalCount | undefined =>
  wal
    ? countWal(
        wal,
        databases.map((name) => snapshot.oids.get(name)!),
        snapshot.lsn,
      )
    : undefined;

/** What `databases` committed and wrote between two snapshots, and what the other databases committed. */
async function databaseDelta(
  before: DatabaseSnapshot,
  after: DatabaseSnapshot,
  databases: string[],
  walCount: WalCount | undefined,
): Promise<{ commits: number; otherCommits: number; walBytes: number }> {
  let [commits, otherCommits] = [0, 0];
  for (const [name, count] of after.commits) {
    // A database dropped meanwhile has no row any more, one created meanwhile starts from none.
    const delta = Math.max(0, count - (before.commits.get(name) ?? 0));
    if (databases.includes(name)) commits += delta;
    else otherCommits += delta;
  }
  const walBytes = walCount
    ? await walCount.until(after.lsn)
    : Number(lsnBytes(after.lsn) - lsnBytes(before.lsn));
  return { commits, otherCommits, walBytes };
}

/** What one closed loop measured over its window (its warm-up left out). */
interface Saturation {
  clients: number;
  sagasPerSecond: number;
  seconds: number;
  cores: Map<string, number>;
  machineCores: number;
  /** Commits in the engine's databases, less the terminal watch's own queries. */
  commits: number;
  otherCommits: number;
  walBytes: number;
  /** Written to the engine's own storage outside PostgreSQL (NaN: it has none we can read). */
  storageBytes: number;
  run: LoadRun;
}

interface Latency {
  fraction: number;
  askedRate: number;
  achievedRate: number;
  p50Ms: number;
  p99Ms: number;
  count: number;
  run: LoadRun;
}

interface EngineResult {
  key: EngineKey;
  name: string;
  saturation: Saturation[];
  best: Saturation;
  latency: [Latency, Latency];
  cpuMsPerSaga: number;
  commitsPerSaga: number;
  walBytesPerSaga: number;
  storageBytesPerSaga: number;
  unexpected: number;
  unfinished: number;
  shed: number;
  violations: string[];
}

async function measureSaturation(
  engine: Engine,
  watch: TerminalWatch,
  mix: OrderMix,
  admin: pg.Client,
  classify: Classifier,
  clients: number,
): Promise<Saturation> {
  const running = closedLoop(engine, watch, mix, clients, plan.warmupMs + plan.measureMs);
  await sleep(plan.warmupMs);
  // The same readings at both ends of the measured window.
  const snapshot = async () => ({
    cpu: await cpuSnapshot(classify),
    machine: await machineCpu(),
    db: await databaseSnapshot(admin),
    storage: (await engine.storageBytes?.().catch(() => Number.NaN)) ?? Number.NaN,
    polls: watch.polls,
    at: epochMs(),
  });
  const before = await snapshot();
  const walCount = countWalFrom(before.db, engine.databases);
  await sleep(plan.measureMs);
  const after = await snapshot();
  const [run, db] = await Promise.all([
    running.catch((error: unknown) => {
      walCount?.cancel();
      throw error;
    }),
    databaseDelta(before.db, after.db, engine.databases, walCount),
  ]);
  const seconds = (after.at - before.at) / 1000;
  return {
    clients,
    sagasPerSecond: completionRate(run.outcomes, before.at, after.at),
    seconds,
    cores: coresUsed(before.cpu, after.cpu, seconds),
    machineCores: (after.machine.busy - before.machine.busy) / seconds,
    commits: db.commits - (after.polls - before.polls),
    otherCommits: db.otherCommits,
    walBytes: db.walBytes,
    storageBytes: after.storage - before.storage,
    run,
  };
}

async function measureLatency(
  engine: Engine,
  watch: TerminalWatch,
  mix: OrderMix,
  fraction: number,
  saturated: number,
): Promise<Latency> {
  const askedRate = saturated * fraction;
  const run = await openLoop(engine, watch, mix, askedRate, plan.latencyWarmupMs + plan.latencyMs);
  const measured = run.outcomes.filter((o) => o.startMs >= run.fromMs + plan.latencyWarmupMs);
  const latency = summarize(measured.map((o) => (o.terminalMs - o.startMs) * 1000));
  return {
    fraction,
    askedRate,
    achievedRate: measured.length / (plan.latencyMs / 1000),
    p50Ms: latency.p50Ms,
    p99Ms: latency.p99Ms,
    count: latency.count,
    run,
  };
}

/** Invariants once every saga has ended; order-saga's inventory finishes a confirmed order's stock a moment later. */
async function settledViolations(engine: Engine): Promise<string[]> {
  let violations: string[] = [];
  await waitFor(async () => (violations = await invariantViolations(engine)).length === 0, {
    timeoutMs: 30_000,
    intervalMs: 500,
  }).catch(() => undefined);
  return violations;
}

/** What pgbench's run of the same transactions cost, over its middle (first and last second left out). */
interface Floor {
  sagasPerSecond: number;
  pgbenchCores: number;
  postgresCores: number;
  cpuMsPerSaga: number;
  commitsPerSaga: number;
  walBytesPerSaga: number;
}

async function measureFloor(admin: pg.Client): Promise<Floor> {
  log(`pgbench: the four transactions of a happy saga, 8 clients, ${plan.pgbenchSeconds} s`);
  let cores = new Map<string, number>();
  let counted = { commits: 0, walBytes: 0 };
  const run = await pgbenchFloor(plan.pgbenchSeconds, async (database) => {
    const classify: Classifier = ({ pid, cmdline }) =>
      postgresProcess(cmdline, [database]) ? 'PostgreSQL' : pid === pgbenchPid ? 'pgbench' : null;
    let pgbenchPid = 0;
    // Commits and WAL over the whole run, up to after pgbench's sessions ended (a live session
    // reports its commits up to a second late); CPU over its middle, like the engines' windows.
    const start = await databaseSnapshot(admin);
    const walCount = countWalFrom(start, [database]);
    return {
      whileRunning: async (pid) => {
        pgbenchPid = pid;
        await sleep(1000);
        const [before, from] = [await cpuSnapshot(classify), epochMs()];
        await sleep(Math.max(1000, (plan.pgbenchSeconds - 2) * 1000));
        const [after, to] = [await cpuSnapshot(classify), epochMs()];
        cores = coresUsed(before, after, (to - from) / 1000);
      },
      afterExit: async () => {
        counted = await databaseDelta(start, await databaseSnapshot(admin), [database], walCount);
      },
    };
  });
  const [pgbenchCores, postgresCores] = [cores.get('pgbench') ?? 0, cores.get('PostgreSQL') ?? 0];
  log(`pgbench: ${run.sagasPerSecond.toFixed(1)} sagas/s`);
  return {
    sagasPerSecond: run.sagasPerSecond,
    pgbenchCores,
    postgresCores,
    cpuMsPerSaga: ((pgbenchCores + postgresCores) * 1000) / run.sagasPerSecond,
    commitsPerSaga: counted.commits / run.sagas,
    walBytesPerSaga: counted.walBytes / run.sagas,
  };
}

/** The engine being started or measured: what a signal must stop before the process ends. */
let current: Promise<Engine> | undefined;

async function benchmark(key: EngineKey, admin: pg.Client): Promise<EngineResult> {
  log(`${key}: starting`);
  current = engines[key]();
  const engine = await current;
  const watch = new TerminalWatch(engine.orders);
  watch.start();
  try {
    const classify: Classifier = (proc) => (proc.pid === process.pid ? 'benchmark' : engine.classify(proc));
    const mix = new OrderMix();
    const outcomes: Outcome[] = [];
    const runs: LoadRun[] = [];
    log(`${engine.name}: warm-up`);
    const warmup = await closedLoop(engine, watch, mix, 8, plan.warmupMs * 2);
    runs.push(warmup);

    const saturation: Saturation[] = [];
    for (const clients of plan.clients) {
      const s = await measureSaturation(engine, watch, mix, admin, classify, clients);
      saturation.push(s);
      runs.push(s.run);
      log(`${engine.name}: closed loop, ${clients} clients: ${s.sagasPerSecond.toFixed(1)} sagas/s`);
    }
    const best = saturation.reduce((a, b) => (b.sagasPerSecond > a.sagasPerSecond ? b : a));
    const latency: Latency[] = [];
    for (const fraction of [0.1, 0.5]) {
      const l = await measureLatency(engine, watch, mix, fraction, best.sagasPerSecond);
      latency.push(l);
      runs.push(l.run);
      log(
        `${engine.name}: open loop at ${l.askedRate.toFixed(1)}/s: p50 ${l.p50Ms.toFixed(1)} ms, p99 ${l.p99Ms.toFixed(1)} ms`,
      );
    }
    for (const run of runs) outcomes.push(...run.outcomes);
    const violations = await settledViolations(engine);
    const completed = best.sagasPerSecond * best.seconds;
    const systemCores = [...best.cores]
      .filter(([group]) => group !== 'benchmark')
      .reduce((sum, [, c]) => sum + c, 0);
    return {
      key,
      name: engine.name,
      saturation,
      best,
      latency: latency as [Latency, Latency],
      cpuMsPerSaga: (systemCores * 1000) / best.sagasPerSecond,
      commitsPerSaga: best.commits / completed,
      walBytesPerSaga: best.walBytes / completed,
      storageBytesPerSaga: best.storageBytes / completed,
      unexpected: unexpectedOutcomes(outcomes),
      unfinished: runs.reduce((sum, run) => sum + run.unfinished, 0),
      shed: runs.reduce((sum, run) => sum + run.shed, 0),
      violations,
    };
  } finally {
    await watch.stop();
    current = undefined;
    await engine.stop();
  }
}

// Ctrl-C or a CI timeout must not leave a Restate server, the services or scratch databases behind.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    log(`${signal}: stopping`);
    // The load loops fail as their engine goes away; nothing is left to report but the clean-up.
    process.on('unhandledRejection', () => undefined);
    void Promise.resolve(current?.then((engine) => engine.stop()))
      .catch(() => undefined)
      .finally(() => process.exit(130));
  });

const loadBefore = loadavg()[0]!;
const admin = new pg.Client({ connectionString: testInfra().adminDatabaseUrl });
await admin.connect();
const wal = await walSource(admin);
if (!wal) log("pg_waldump or the WAL directory is not readable here: WAL bytes are the whole server's");
const results: EngineResult[] = [];
let floor: Floor | undefined;
const failures: string[] = [];
try {
  for (const key of options.engines) {
    try {
      if (key === 'pgbench') floor = await measureFloor(admin);
      else results.push(await benchmark(key, admin));
    } catch (error) {
      failures.push(`${key}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      log(`${key} failed: ${String(error)}`);
    }
  }
} finally {
  await admin.end();
}

const ours = results.find((r) => r.key === 'order-saga');
const num = (value: number, digits = 0) =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '–';
/** A figure, and beside a peer's, its ratio to ours. */
/** A figure with its ratio to ours beside it, e.g. `97.0 (1.91×)`. */
const ratioText = (value: number, ourValue: number | undefined, digits = 0) =>
  ourValue === undefined ? num(value, digits) : `${num(value, digits)} (${num(value / ourValue, 2)}×)`;
const withRatio = (r: EngineResult, value: number, ourValue: number | undefined, digits = 0) =>
  r === ours ? num(value, digits) : ratioText(value, ourValue, digits);

/** The pgbench column's cell of a row, when pgbench ran (`–` where a figure has no meaning for it). */
const floorCell = (cell: (f: Floor) => string = () => '–') => (floor ? [cell(floor)] : []);

const table = formatMarkdownTable(
  ['figure', ...results.map((r) => r.name), ...floorCell(() => 'PostgreSQL alone (pgbench)')],
  [
    ...plan.clients.map((clients) => [
      `closed loop, ${clients} clients, sagas/s`,
      ...results.map((r) => num(r.saturation.find((s) => s.clients === clients)!.sagasPerSecond, 1)),
      ...floorCell(),
    ]),
    [
      'sagas/s at saturation (× ours)',
      ...results.map((r) => withRatio(r, r.best.sagasPerSecond, ours?.best.sagasPerSecond, 1)),
      ...floorCell((f) => ratioText(f.sagasPerSecond, ours?.best.sagasPerSecond, 1)),
    ],
    ...([0, 1] as const).map((i) => [
      `${i === 0 ? '10' : '50'}% of own saturation: p50 / p99 ms, start → terminal`,
      ...results.map((r) => `${num(r.latency[i].p50Ms, 1)} / ${num(r.latency[i].p99Ms, 1)}`),
      ...floorCell(),
    ]),
    [
      'p99 at 50% (× ours)',
      ...results.map((r) => withRatio(r, r.latency[1].p99Ms, ours?.latency[1].p99Ms, 1)),
      ...floorCell(),
    ],
    [
      'CPU-ms per saga at saturation (× ours)',
      ...results.map((r) => withRatio(r, r.cpuMsPerSaga, ours?.cpuMsPerSaga, 1)),
      ...floorCell((f) => ratioText(f.cpuMsPerSaga, ours?.cpuMsPerSaga, 1)),
    ],
    [
      'cores busy at saturation: engine / Node / PostgreSQL / Kafka',
      ...results.map((r) => cpuGroups.map((g) => num(r.best.cores.get(g) ?? 0, 2)).join(' / ')),
      ...floorCell((f) => `pgbench ${num(f.pgbenchCores, 2)}, PostgreSQL ${num(f.postgresCores, 2)}`),
    ],
    ['  machine, all processes', ...results.map((r) => num(r.best.machineCores, 2)), ...floorCell()],
    [
      'database commits per saga (× ours)',
      ...results.map((r) => withRatio(r, r.commitsPerSaga, ours?.commitsPerSaga, 1)),
      ...floorCell((f) => ratioText(f.commitsPerSaga, ours?.commitsPerSaga, 1)),
    ],
    [
      `WAL bytes per saga, ${wal ? 'its databases (pg_waldump)' : 'whole server'} (× ours)`,
      ...results.map((r) => withRatio(r, r.walBytesPerSaga, ours?.walBytesPerSaga)),
      ...floorCell((f) => ratioText(f.walBytesPerSaga, ours?.walBytesPerSaga)),
    ],
    [
      "bytes per saga to the engine's own storage (order-saga: its Kafka topics; Restate: its server's files)",
      ...results.map((r) => num(r.storageBytesPerSaga)),
      ...floorCell(),
    ],
    [
      '  commits/s on other databases meanwhile (shared server)',
      ...results.map((r) => num(r.best.otherCommits / r.best.seconds)),
      ...floorCell(),
    ],
    [
      'unexpected outcomes / unfinished / invariant violations',
      ...results.map((r) => `${r.unexpected} / ${r.unfinished} / ${r.violations.length}`),
      ...floorCell(),
    ],
  ],
);
console.log(table);
console.log(
  `machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, load average ${loadBefore.toFixed(2)} before / ${loadavg()[0]!.toFixed(2)} after` +
    `; engines run one after the other; saturation is the best of the closed loops, the open loops run at 10% and 50% of it` +
    `; commits (read-only transactions too, the terminal watch's own left out) and WAL bytes over the best closed loop's window` +
    (options.quick ? '; --quick run' : ''),
);
for (const r of results)
  for (const violation of r.violations.slice(0, 10)) console.log(`${r.name}: invariant broken: ${violation}`);
for (const failure of failures) console.log(`failed: ${failure}`);

if (options.json) {
  const ratio = (value: number, ourValue: number | undefined) =>
    ourValue === undefined ? null : value / ourValue;
  console.log(
    JSON.stringify({
      bench: 'peers',
      quick: !!options.quick,
      machine: machineInfo(loadBefore),
      engines: Object.fromEntries(
        results.map((r) => [
          r.key,
          {
            name: r.name,
            sagasPerSecond: r.best.sagasPerSecond,
            p99At50Ms: r.latency[1].p99Ms,
            cpuMsPerSaga: r.cpuMsPerSaga,
            commitsPerSaga: r.commitsPerSaga,
            walBytesPerSaga: r.walBytesPerSaga,
            storageBytesPerSaga: Number.isNaN(r.storageBytesPerSaga) ? null : r.storageBytesPerSaga,
            ratioToOrderSaga:
              r === ours
                ? null
                : {
                    sagasPerSecond: ratio(r.best.sagasPerSecond, ours?.best.sagasPerSecond),
                    p99At50Ms: ratio(r.latency[1].p99Ms, ours?.latency[1].p99Ms),
                    cpuMsPerSaga: ratio(r.cpuMsPerSaga, ours?.cpuMsPerSaga),
                    commitsPerSaga: ratio(r.commitsPerSaga, ours?.commitsPerSaga),
                    walBytesPerSaga: ratio(r.walBytesPerSaga, ours?.walBytesPerSaga),
                  },
            closedLoop: r.saturation.map((s) => ({ clients: s.clients, sagasPerSecond: s.sagasPerSecond })),
            latency: r.latency.map((l) => ({
              fraction: l.fraction,
              askedRate: l.askedRate,
              achievedRate: l.achievedRate,
              p50Ms: l.p50Ms,
              p99Ms: l.p99Ms,
              sagas: l.count,
            })),
            bestClients: r.best.clients,
            cores: Object.fromEntries(r.best.cores),
            machineCores: r.best.machineCores,
            otherCommitsPerSecond: r.best.otherCommits / r.best.seconds,
            unexpected: r.unexpected,
            unfinished: r.unfinished,
            shed: r.shed,
            violations: r.violations,
          },
        ]),
      ),
      walScope: wal ? 'databases' : 'server',
      pgbench: floor ?? null,
      failures,
    }),
  );
}
const failed =
  failures.length > 0 || results.some((r) => r.unexpected > 0 || r.unfinished > 0 || r.violations.length > 0);
// kafkajs and pg leave sockets and timers behind after their clients close.
process.exit(failed ? 1 : 0);
