import * as saga from '@order-saga/order/saga';
import type { SagaPolicy, SagaStatus } from '@order-saga/order/saga';
import type { Action } from './actions.js';
import { defaultPolicy } from './policy.js';
import { Random } from './random.js';
import { chooseAction, drawProfile, type Profile } from './schedule.js';
import { ddmin } from './shrink.js';
import {
  InvariantViolation,
  realParticipants,
  SimulatedSystem,
  type ParticipantCode,
  type SagaCode,
} from './system.js';
import { serviceNames, subscriptions } from './topology.js';

/** The saga as the order service runs it. */
export const realSaga: SagaCode = {
  startSaga: saga.startSaga,
  advance: saga.advance,
  onDeadline: saga.onDeadline,
  retrySaga: saga.retrySaga,
};

export interface SimulationOptions {
  saga?: SagaCode;
  /** Replaces some of the participants' decisions (a spec's deliberately broken one). */
  participants?: Partial<ParticipantCode>;
  /** Fixes the saga policy; by default each seed draws one (half of them the service's defaults). */
  policy?: SagaPolicy;
  /** Record a line per action (slower; used to print a failure). */
  trace?: boolean;
}

export interface SimulationResult {
  seed: number;
  /** The first invariant that did not hold, or null when the run kept them all. */
  violation: InvariantViolation | null;
  /** The actions performed while faults were on: what a replay or the shrinker starts from. */
  script: Action[];
  /** Actions performed in all, the drain included. */
  steps: number;
  orders: number;
  /** Each order's saga status when the run ended, by order name (o1, o2, …). */
  statuses: Record<string, SagaStatus>;
  /** Orders whose saga went through COMPENSATION_FAILED and ended otherwise. */
  healed: number;
  trace: string[] | null;
}

/** Beyond this many drain steps the system is considered stuck (a livelock is a failure too). */
const MAX_DRAIN_STEPS = 20_000;

/** Runs one seed: faults and orders drawn from the seed, then the drain, checking invariants throughout. */
export function simulate(seed: number, options: SimulationOptions = {}): SimulationResult {
  const world = new Random(seed);
  const rng = world.fork();
  const profile = drawProfile(world, rng, defaultPolicy, options.policy);
  return run(seed, profile, options, (system, performed) => {
    for (let step = 0; step < profile.steps; step++) {
      const action = chooseAction(rng, profile, system);
      if (!action) break;
      performed.push(action);
      system.perform(action);
    }
  });
}

/**
 * Replays a seed's world with the given actions instead of drawn ones; actions that are not
 * possible at their turn are skipped. The drain that follows is the same as in {@link simulate}.
 */
export function replay(
  seed: number,
  script: readonly Action[],
  options: SimulationOptions = {},
): SimulationResult {
  const world = new Random(seed);
  const profile = drawProfile(world, world.fork(), defaultPolicy, options.policy);
  return run(seed, profile, options, (system, performed) => {
    for (const action of script) {
      // Pushed first: when the action breaks an invariant, it belongs to the script that shows it.
      performed.push(action);
      if (!system.perform(action)) performed.pop();
    }
  });
}

function run(
  seed: number,
  profile: Profile,
  options: SimulationOptions,
  faults: (system: SimulatedSystem, performed: Action[]) => void,
): SimulationResult {
  const system = new SimulatedSystem(profile.setup, options.saga ?? realSaga, {
    ...realParticipants,
    ...options.participants,
  });
  if (options.trace) system.trace = [];
  const script: Action[] = [];
  let steps = 0;
  const result = (violation: InvariantViolation | null): SimulationResult => ({
    seed,
    violation,
    script,
    steps: steps || script.length,
    orders: system.orders.size,
    healed: [...system.everFailed].filter(
      (orderId) => system.sagas.get(orderId)!.status !== 'COMPENSATION_FAILED',
    ).length,
    statuses: Object.fromEntries(
      [...system.orders].map(([orderId, { spec }]) => [`o${spec.no}`, system.sagas.get(orderId)!.status]),
    ),
    trace: system.trace,
  });
  try {
    faults(system, script);
    steps = script.length;
    system.trace?.push('-- faults stop: every process and the broker come back, and the system drains --');
    steps += drain(system);
    system.checkQuiescent();
    return result(null);
  } catch (error) {
    if (!(error instanceof InvariantViolation)) throw error;
    return result(error);
  }
}

/**
 * Lets the system finish, fault-free: outages end, then relays, consumers, offset commits and the
 * deadline timer run until nothing is left, the clock moving to each next deadline. When the system
 * is quiet, operators replay the dead letters and retry each saga in COMPENSATION_FAILED once, and
 * the drain goes on.
 * Deterministic: it takes no random choice, so a shrunk schedule drains the same way every time.
 */
function drain(system: SimulatedSystem): number {
  let steps = 0;
  const perform = (action: Action) => {
    if (!system.perform(action))
      throw new Error(`drain chose an impossible action: ${JSON.stringify(action)}`);
    steps++;
  };
  for (const target of ['broker', ...serviceNames] as const)
    if (system.isDown(target)) perform({ kind: 'outage', target, down: false });
  const retried = new Set<number>();
  while (steps < MAX_DRAIN_STEPS) {
    const action = nextDrainAction(system);
    if (action) {
      perform(action);
      continue;
    }
    // Quiet: operators replay what was dead-lettered (the bug behind it is fixed), then retry
    // each saga left in COMPENSATION_FAILED, once.
    const deadLetters = system.pendingDeadLetters();
    for (const messageId of deadLetters) perform({ kind: 'replay-dead-letter', messageId });
    if (deadLetters.length > 0) continue;
    const failed = [...system.sagas.values()]
      .filter((s) => s.status === 'COMPENSATION_FAILED')
      .map((s) => system.orders.get(s.orderId)!.spec.no)
      .filter((no) => !retried.has(no));
    if (failed.length === 0) return steps;
    for (const orderNo of failed) {
      retried.add(orderNo);
      perform({ kind: 'retry', orderNo });
    }
  }
  throw new InvariantViolation('system-drains', `still busy after ${MAX_DRAIN_STEPS} fault-free steps`);
}

function nextDrainAction(system: SimulatedSystem): Action | null {
  for (const service of serviceNames) if (system.unpublished(service) > 0) return { kind: 'relay', service };
  for (const service of serviceNames)
    for (const topic of subscriptions[service])
      for (let partition = 0; partition < system.setup.partitions; partition++)
        if (system.backlog(service, topic, partition) > 0)
          return { kind: 'deliver', service, topic, partition };
  for (const service of serviceNames) if (system.uncommitted(service)) return { kind: 'commit', service };
  if (system.dueSaga()) return { kind: 'timer' };
  if (system.nextDeadline() !== null) return { kind: 'jump' };
  return null;
}

/**
 * The shortest schedule found that still breaks the same invariant: delta debugging over the
 * failing run's actions (orders, faults and deliveries alike), each candidate replayed from the
 * seed. Returns the shrunk run, traced.
 */
export function shrink(failure: SimulationResult, options: SimulationOptions = {}): SimulationResult {
  const rule = failure.violation?.rule;
  if (!rule) throw new Error(`seed ${failure.seed} did not fail: nothing to shrink`);
  const stillFails = (candidate: readonly Action[]) => {
    const attempt = replay(failure.seed, candidate, { ...options, trace: false });
    return attempt.violation?.rule === rule ? attempt.script : null;
  };
  let shortest = ddmin(failure.script, stillFails);
  // Removing one tick of several in a row usually leaves the clock short of a deadline; one tick
  // of their sum does not, and then ddmin can drop what those ticks were waiting for.
  const merged = stillFails(mergeTicks(shortest));
  if (merged && merged.length < shortest.length) shortest = ddmin(merged, stillFails);
  return replay(failure.seed, shortest, { ...options, trace: true });
}

function mergeTicks(script: readonly Action[]): Action[] {
  const merged: Action[] = [];
  for (const action of script) {
    const last = merged.at(-1);
    if (action.kind === 'tick' && last?.kind === 'tick')
      merged[merged.length - 1] = { kind: 'tick', ms: last.ms + action.ms };
    else merged.push(action);
  }
  return merged;
}
