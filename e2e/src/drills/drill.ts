import type { LocalKafkaCluster } from '@order-saga/testing';
import type { PublishedEvent } from '../saga/effects.js';
import type { OrderView, PlaceOrderBody, SagaSystem, Service } from '../saga/system.js';
import type { QueryResultRow } from 'pg';
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

/**
 * What a drill acts on, the same calls whichever system it is: a system of its own
 * (`SagaSystem`: scratch databases, its own topics, the services as child processes) or the one
 * `./scripts/start` runs (`AttachedSystem`, `--attach`: faults through its supervisor's control
 * surface). A killed or stopped service stays down until `restart`.
 */
export interface DrillSystem {
  readonly name: string;
  /** Topic prefix of the system (consumer groups are `<prefix><consumer>` too). */
  readonly prefix: string;
  readonly kafkaBrokers: string[];
  /** kill -9. */
  kill(service: Service): Promise<void>;
  /** Starts a killed or stopped service again and waits until its /health answers. */
  restart(service: Service): Promise<void>;
  /** SIGTERM: the service stops gracefully (it leaves its consumer groups). */
  stopService(service: Service): Promise<void>;
  /** SIGSTOP / SIGCONT. */
  pause(service: Service): Promise<void>;
  resume(service: Service): Promise<void>;
  /** A read-only query on a service's database (never to fake a step). */
  query<T extends QueryResultRow>(service: Service, sql: string, params?: unknown[]): Promise<T[]>;
  /** What a participant published on `<service>.events` during this drill (its own topics: all of it). */
  events(
    service: Exclude<Service, 'order'>,
    timeoutMs?: number,
    skipInvalid?: boolean,
  ): Promise<PublishedEvent[]>;
  placeOrder(body: unknown, key?: string): Promise<Response>;
  place(body: PlaceOrderBody, key?: string): Promise<string>;
  order(orderId: string): Promise<OrderView>;
}

/** What a drill's fault gets: the running system and the load placing orders into it. */
export interface DrillContext<S extends DrillSystem = DrillSystem> {
  system: S;
  load: Load;
  log: (line: string) => void;
  /** Resolves once `n` orders have been accepted (or the load is over). */
  acceptedAtLeast: (n: number) => Promise<void>;
  /** `--quick`: the CI-sized run (a drill with a long fault, e.g. long-outage, shortens it). */
  quick: boolean;
  /** The drill's own Kafka cluster, when it asked for one (`brokers`). */
  cluster?: LocalKafkaCluster;
}

interface DrillBase {
  name: string;
  /** One line: what it does to the system and what must hold. */
  summary: string;
  /** Service settings for this drill (short deadlines keep it quick). */
  env?: Record<string, string>;
  /** Settings for one service only (e.g. a test hook on payment). */
  serviceEnv?: Partial<Record<Service, Record<string, string>>>;
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
  /** Runs after the invariants, before the system stops. */
  cleanup?: () => Promise<void>;
}

/** A drill that runs on its own system or attached to the running one (`--attach`). */
export interface AttachableDrill extends DrillBase {
  ownSystemOnly?: undefined;
  prepare?: (system: DrillSystem) => Promise<void>;
  inject: (ctx: DrillContext) => Promise<Evidence>;
}

/** A drill that needs a system of its own: settings, proxies or hooks the running system lacks. */
export interface OwnSystemDrill extends DrillBase {
  /** Why `--attach` cannot run it (printed when refused). */
  ownSystemOnly: string;
  /** Runs before the load starts (e.g. puts a proxy in front of a database). */
  prepare?: (system: SagaSystem) => Promise<void>;
  inject: (ctx: DrillContext<SagaSystem>) => Promise<Evidence>;
}

/** One failure drill: a fault injected under load, then the same invariants as every drill. */
export type Drill = AttachableDrill | OwnSystemDrill;

/** A drill's report: what `pnpm drill` prints (and `--json` prints as one object). */
export interface DrillReport {
  drill: string;
  /** `--attach`: the supervisor of the system the drill ran on (absent: a system of its own). */
  attached?: string;
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
