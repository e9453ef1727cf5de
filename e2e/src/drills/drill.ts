import type { LocalKafkaCluster } from '@order-saga/testing';
import type { OrderView, SagaSystem, Service } from '../saga/system.js';
import type { Load } from './load.js';
import type { Verdict } from './invariants.js';

/** Short deadlines so a drill ends in seconds; compensations get enough sends to outlast a restart. */
export const drillEnv: Record<string, string> = {
  SAGA_STEP_TIMEOUT_MS: '3000',
  SAGA_STEP_MAX_ATTEMPTS: '2',
  SAGA_COMPENSATION_MAX_ATTEMPTS: '8',
  SAGA_COMPENSATION_BACKOFF_MS: '500',
  OUTBOX_RELAY_POLL_INTERVAL_MS: '200',
};

/** The order service's longest wait between two sends of a compensation (`COMPENSATION_BACKOFF_CAP_MS`). */
export const COMPENSATION_BACKOFF_CAP_MS = 300_000;

/**
 * How long after a participant comes back every saga may need to end, at worst, when the
 * participant was unreachable for `outageMs`. The compensations the sagas sent meanwhile wait on
 * the participant's topic and are normally answered as soon as it reads them; the bound also
 * covers a compensation that must be re-sent. Re-sends wait `backoff × 2^(attempt − 1)` (capped),
 * and the waits before one add up to less than it, so the wait running when the participant
 * returns is at most `outageMs + backoff` (or the cap): the next send is due within a step
 * timeout plus that. `settleMs` is for restarting the participant and working off its backlog.
 */
export function recoveryBoundMs(outageMs: number, env: Record<string, string>, settleMs = 60_000): number {
  const stepTimeoutMs = Number(env.SAGA_STEP_TIMEOUT_MS);
  const backoffMs = Number(env.SAGA_COMPENSATION_BACKOFF_MS);
  return stepTimeoutMs + Math.min(COMPENSATION_BACKOFF_CAP_MS, outageMs + backoffMs) + settleMs;
}

/** What a drill's fault did, with the figures that prove it really happened. */
export interface Evidence {
  /** One line: what was done to the system. */
  fault: string;
  /** False when the drill could not show that its fault hit what it aims at: the drill fails. */
  proven: boolean;
  /** Messages the fault made a consumer receive again (redeliveries), when the drill measures them. */
  duplicatesDelivered?: number;
  figures: Record<string, number | string>;
}

/** What a drill's fault gets: the running system and the load placing orders into it. */
export interface DrillContext {
  system: SagaSystem;
  load: Load;
  log: (line: string) => void;
  /** Resolves once `n` orders have been accepted (or the load is over). */
  acceptedAtLeast: (n: number) => Promise<void>;
  restart: (service: Service) => Promise<void>;
  /** `--quick`: the CI-sized run (a drill with a long fault, e.g. long-outage, shortens it). */
  quick: boolean;
  /** The drill's own Kafka cluster, when it asked for one (`brokers`). */
  cluster?: LocalKafkaCluster;
}

/** One failure drill: a fault injected under load, then the same invariants as every drill. */
export interface Drill {
  name: string;
  /** One line: what it does to the system and what must hold. */
  summary: string;
  /** Service settings for this drill (short deadlines keep it quick). */
  env?: Record<string, string>;
  /**
   * A Kafka cluster of this many nodes of the drill's own (scripts/kafka.sh on ports of its own,
   * removed after the drill) instead of the shared broker: for faults that take a broker down.
   */
  brokers?: 3;
  /**
   * Every accepted order must end within this after the load and the fault are over; a function
   * when the bound follows from a fault whose length depends on `--quick`.
   */
  drainBoundMs: number | ((run: { quick: boolean }) => number);
  /** Poison drills dead-letter on purpose (and replay); for every other drill, none may appear. */
  deadLetters?: boolean;
  /** Runs before the load starts (e.g. puts a proxy in front of a database). */
  prepare?: (system: SagaSystem) => Promise<void>;
  inject: (ctx: DrillContext) => Promise<Evidence>;
  /** Runs after the invariants, before the system stops. */
  cleanup?: () => Promise<void>;
}

/** A drill's report: what `pnpm drill` prints (and `--json` prints as one object). */
export interface DrillReport {
  drill: string;
  orders: { placed: number; accepted: number; refused: number; byStatus: Record<string, number> };
  fault: Evidence;
  drainMs: number | null;
  durationMs: number;
  duplicates: { delivered: number; eventsRepublished: number; effects: number };
  invariants: Verdict[];
  pass: boolean;
}

export const countByStatus = (orders: readonly OrderView[]): Record<string, number> =>
  orders.reduce<Record<string, number>>((acc, o) => ({ ...acc, [o.status]: (acc[o.status] ?? 0) + 1 }), {});
