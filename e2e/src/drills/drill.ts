import type { OrderView, SagaSystem, Service } from '../saga/system.js';
import type { Load } from './load.js';
import type { Verdict } from './invariants.js';

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
}

/** One failure drill: a fault injected under load, then the same invariants as every drill. */
export interface Drill {
  name: string;
  /** One line: what it does to the system and what must hold. */
  summary: string;
  /** Service settings for this drill (short deadlines keep it quick). */
  env?: Record<string, string>;
  /** Every accepted order must end within this after the load and the fault are over. */
  drainBoundMs: number;
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
