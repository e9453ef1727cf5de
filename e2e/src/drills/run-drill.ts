import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalKafkaCluster } from '@order-saga/testing';
import { SagaSystem, terminal, type OrderView } from '../saga/system.js';
import { AttachedSystem } from './attached.js';
import {
  countByStatus,
  drillEnv,
  type Drill,
  type DrillContext,
  type DrillReport,
  type DrillSystem,
  type Evidence,
} from './drill.js';
import { checkInvariants, takeBaseline } from './invariants.js';
import { placeOrders } from './load.js';

export interface RunOptions {
  orders: number;
  rate: number;
  /** `--quick`: the CI-sized run. */
  quick?: boolean;
  /** When set, each service's log (its last 100–200 kB) is written there as `<drill>.<service>.log`. */
  logDir?: string;
  log: (line: string) => void;
  /** Called after each order attempt, with attempts so far (a progress bar). */
  progress?: (placed: number) => void;
  /**
   * `--attach`: run on the system ./scripts/start runs instead of one of the drill's own: its
   * supervisor's control surface, and the checkout whose `.run/` describes it.
   */
  attach?: { supervisorUrl: string; root: string };
}

/** A drill that cannot run on an attached system, and why. */
export class DrillRefused extends Error {
  override readonly name = 'DrillRefused';
}

/** The drill's prepare and inject on the system it runs on (an own-system drill needs a SagaSystem). */
function bind(
  drill: Drill,
  system: DrillSystem,
): { prepare: () => Promise<void>; inject: (ctx: Omit<DrillContext, 'system'>) => Promise<Evidence> } {
  if (drill.ownSystemOnly === undefined)
    return {
      prepare: async () => drill.prepare?.(system),
      inject: (ctx) => drill.inject({ ...ctx, system }),
    };
  if (!(system instanceof SagaSystem))
    throw new DrillRefused(`${drill.name} cannot run attached: ${drill.ownSystemOnly}`);
  return { prepare: async () => drill.prepare?.(system), inject: (ctx) => drill.inject({ ...ctx, system }) };
}

/**
 * Starts a system of its own (scratch databases, its own topics, the four services), or attaches
 * to the running one (`attach`), places the load, injects the drill's fault while it runs, waits for every accepted order to end, and
 * checks the invariants.
 */
export async function runDrill(drill: Drill, options: RunOptions): Promise<DrillReport> {
  const started = Date.now();
  if (options.attach && drill.ownSystemOnly !== undefined)
    throw new DrillRefused(`${drill.name} cannot run attached: ${drill.ownSystemOnly}`);
  let system: DrillSystem;
  let cluster: LocalKafkaCluster | undefined;
  if (options.attach) {
    options.log(`${drill.name}: attaching to the system at ${options.attach.supervisorUrl}`);
    system = await AttachedSystem.attach(options.attach.supervisorUrl, options.attach.root);
  } else {
    cluster = drill.brokers ? await startCluster(drill, options) : undefined;
    try {
      options.log(`${drill.name}: starting a system of its own (scratch databases, topics, 4 services)`);
      system = await SagaSystem.start(
        `drill_${drill.name.replace(/-/g, '_')}`,
        { ...drillEnv, ...drill.env },
        { serviceEnv: drill.serviceEnv, kafkaBrokers: cluster?.brokers },
      );
    } catch (error) {
      await cluster?.remove();
      throw error;
    }
  }
  try {
    const bound = bind(drill, system);
    await bound.prepare();
    const baseline = await takeBaseline(system);
    let attempts = 0;
    const load = placeOrders(system, {
      orders: options.orders,
      rate: options.rate,
      onAttempt: () => options.progress?.(++attempts),
    });
    const evidence = await bound.inject({
      load,
      log: options.log,
      quick: !!options.quick,
      cluster,
      acceptedAtLeast: async (n: number) => {
        let over = false;
        void load.done.then(() => (over = true));
        while (load.accepted.size < n && !over) await new Promise((r) => setTimeout(r, 100));
      },
    });
    await load.done;

    const drainBoundMs =
      typeof drill.drainBoundMs === 'number'
        ? drill.drainBoundMs
        : drill.drainBoundMs({ quick: !!options.quick });
    const drainFrom = Date.now();
    const ids = [...load.accepted.keys()];
    let orders: OrderView[] = [];
    let drainMs: number | null = null;
    while (Date.now() - drainFrom < drainBoundMs) {
      orders = (await Promise.all(ids.map((id) => system.order(id).catch(() => undefined)))).filter(
        (o): o is OrderView => !!o,
      );
      if (
        orders.length === ids.length &&
        orders.every((o) => terminal.includes(o.status) && o.status !== 'COMPENSATION_FAILED')
      ) {
        drainMs = Date.now() - drainFrom;
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    options.log(
      `${drill.name}: ${drainMs === null ? 'not drained' : `drained in ${(drainMs / 1000).toFixed(1)} s`}; checking invariants`,
    );

    const checked = await checkInvariants(system, orders, load.accepted, baseline, {
      accepted: ids.length,
      drainBoundMs,
      drainedInMs: drainMs,
      deadLettersExpected: !!drill.deadLetters,
    });
    const invariants = [
      {
        name: 'the fault really happened',
        pass: evidence.proven,
        detail: evidence.proven ? '' : evidence.fault,
      },
      ...checked.verdicts,
    ];
    return {
      drill: drill.name,
      ...(options.attach ? { attached: options.attach.supervisorUrl } : {}),
      orders: {
        placed: load.placed,
        accepted: ids.length,
        refused: load.refused,
        byStatus: countByStatus(orders),
      },
      fault: evidence,
      drainMs,
      durationMs: Date.now() - started,
      duplicates: {
        delivered: evidence.duplicatesDelivered ?? 0,
        eventsRepublished: checked.duplicateEvents,
        effects: checked.duplicateEffects,
      },
      invariants,
      pass: invariants.every((v) => v.pass),
    };
  } finally {
    if (system instanceof SagaSystem) {
      if (options.logDir) await writeLogs(system, drill.name, options.logDir).catch(() => undefined);
      await system.stop();
    } else if (system instanceof AttachedSystem) await system.detach();
    await drill.cleanup?.();
    await cluster?.remove();
  }
}

// Ports and folders of drill clusters: away from the shared broker (9092) and the broker-outage
// test's (19092).
const DRILL_KAFKA_PORT = 29_092;
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

async function startCluster(drill: Drill, options: RunOptions): Promise<LocalKafkaCluster> {
  const cluster = new LocalKafkaCluster({
    nodes: drill.brokers!,
    port: DRILL_KAFKA_PORT,
    runDir: `${repoRoot}.run/kafka-drill`,
    // Three JVMs beside four services and their databases on two cores.
    heap: '256m',
  });
  // A drill killed half-way leaves its cluster behind: stopped and wiped before it starts afresh.
  await cluster.remove();
  options.log(
    `${drill.name}: starting a Kafka cluster of ${drill.brokers} nodes at ${cluster.brokers.join(',')}`,
  );
  try {
    await cluster.start();
  } catch (error) {
    await cluster.remove();
    throw error;
  }
  return cluster;
}

/** Each service's output (a replica's too), to read what a drill did when its report is not enough. */
async function writeLogs(system: SagaSystem, drill: string, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const processes = [...system.processes.values(), ...[...system.replicas.values()].map((r) => r.process)];
  await Promise.all(processes.map((p) => writeFile(join(dir, `${drill}.${p.name}.log`), p.logs)));
}

/** The report as a person reads it. */
export function formatReport(report: DrillReport): string {
  const lines = [
    `drill ${report.drill}: ${report.pass ? 'PASS' : 'FAIL'} in ${(report.durationMs / 1000).toFixed(1)} s${report.attached ? ` (attached to ${report.attached})` : ''}`,
    `  fault        ${report.fault.fault}`,
    ...Object.entries(report.fault.figures).map(([k, v]) => `               ${k}: ${v}`),
    `  orders       placed ${report.orders.placed}, accepted ${report.orders.accepted}, refused ${report.orders.refused}`,
    `  outcomes     ${
      Object.entries(report.orders.byStatus)
        .map(([s, n]) => `${s} ${n}`)
        .join(', ') || '-'
    }`,
    `  drain        ${report.drainMs === null ? 'NOT within the bound' : `${(report.drainMs / 1000).toFixed(1)} s after the load`}`,
    `  duplicates   delivered ${report.duplicates.delivered}, events re-published ${report.duplicates.eventsRepublished}, duplicate effects ${report.duplicates.effects}`,
    '  invariants',
    ...report.invariants.map(
      (v) => `    ${v.pass ? 'PASS' : 'FAIL'}  ${v.name}${v.pass ? '' : `: ${v.detail}`}`,
    ),
  ];
  return lines.join('\n');
}
