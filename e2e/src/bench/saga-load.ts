import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { SagaSystem } from '../saga/system.js';
import type { OrderKind, OrderMix } from './order-mix.js';

/**
 * What a load phase drives: anything that takes `POST /orders`'s body and answers like it (202 and
 * `{ orderId }`, or 429). The order service does; so does each peer engine of `pnpm bench:peers`.
 */
export type OrderPlacer = Pick<SagaSystem, 'placeOrder'>;

/** Wall-clock milliseconds with sub-millisecond resolution, comparable with the services' timestamps (same machine). */
export const epochMs = (): number => performance.timeOrigin + performance.now();

/** One order of a run: when the client sent it and when the saga ended. */
export interface Outcome {
  orderId: string;
  kind: OrderKind;
  /** Client clock, just before `POST /orders`. */
  startMs: number;
  /** Client clock, when `POST /orders` answered 202. */
  acceptedMs: number;
  /** `order.updated_at` of the transaction that made the order terminal (the service's clock). */
  terminalMs: number;
  status: string;
}

interface Terminal {
  status: string;
  atMs: number;
}

/**
 * Learns when orders become terminal by reading the order database, not `GET /orders/:id`:
 * clients polling the API would spend the order service's CPU, which is what is being measured.
 * One query every `intervalMs` covers every order in flight, and the time it reports is the
 * order row's own `updated_at`, so the polling interval does not add to any latency.
 */
export class TerminalWatch {
  private readonly waiting = new Map<
    string,
    { resolve: (terminal: Terminal) => void; reject: (error: unknown) => void }
  >();
  private running = false;
  private loop?: Promise<void>;
  /** Queries sent so far: each is a transaction the database counts, which a benchmark may subtract. */
  polls = 0;

  constructor(
    private readonly db: pg.Pool,
    private readonly intervalMs = 10,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.poll();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  get inFlight(): number {
    return this.waiting.size;
  }

  until(orderId: string): Promise<Terminal> {
    if (!this.running) return Promise.reject(new Error('the terminal watch is not running'));
    return new Promise((resolve, reject) => this.waiting.set(orderId, { resolve, reject }));
  }

  private async poll(): Promise<void> {
    while (this.running) {
      if (this.waiting.size > 0) {
        let rows: { id: string; status: string; at_ms: number }[];
        try {
          this.polls += 1;
          ({ rows } = await this.db.query<{ id: string; status: string; at_ms: number }>(
            `SELECT id, status, extract(epoch FROM updated_at)::float8 * 1000 AS at_ms
               FROM "order" WHERE id = ANY($1::uuid[]) AND status <> 'PENDING'`,
            [[...this.waiting.keys()]],
          ));
        } catch (error) {
          // The clients waiting on it fail the run; nothing else would ever tell them.
          this.running = false;
          for (const { reject } of this.waiting.values()) reject(error);
          this.waiting.clear();
          return;
        }
        for (const row of rows) {
          this.waiting.get(row.id)?.resolve({ status: row.status, atMs: row.at_ms });
          this.waiting.delete(row.id);
        }
      }
      await sleep(this.intervalMs);
    }
  }
}

/** What a load phase produced. */
export interface LoadRun {
  outcomes: Outcome[];
  /** `POST /orders` answered 429 (backpressure); such orders were not retried. */
  shed: number;
  /** Orders still not terminal when the phase gave up waiting for them. */
  unfinished: number;
  /** Client clock: when the first order was placed, and when placing stopped. */
  fromMs: number;
  toMs: number;
}

type Placed = { kind: 'accepted'; orderId: string; acceptedMs: number } | { kind: 'shed' };

async function place(system: OrderPlacer, body: unknown): Promise<Placed> {
  const response = await system.placeOrder(body);
  if (response.status === 429) {
    await response.body?.cancel();
    return { kind: 'shed' };
  }
  if (response.status !== 202)
    throw new Error(`POST /orders answered ${response.status}: ${await response.text()}`);
  const { orderId } = (await response.json()) as { orderId: string };
  return { kind: 'accepted', orderId, acceptedMs: epochMs() };
}

const DRAIN_TIMEOUT_MS = 60_000;

async function drain(pending: Set<Promise<void>>): Promise<boolean> {
  const timeout = sleep(DRAIN_TIMEOUT_MS).then(() => false);
  return Promise.race([Promise.all(pending).then(() => true), timeout]);
}

/**
 * A closed loop: `clients` clients each place an order, wait until it is terminal, and place the
 * next, for `durationMs`. The orders in flight at the end are waited for, so the next phase
 * starts on a quiet system.
 */
export async function closedLoop(
  system: OrderPlacer,
  watch: TerminalWatch,
  mix: OrderMix,
  clients: number,
  durationMs: number,
): Promise<LoadRun> {
  const outcomes: Outcome[] = [];
  let shed = 0;
  const fromMs = epochMs();
  const stopAt = fromMs + durationMs;
  const client = async () => {
    while (epochMs() < stopAt) {
      const { kind, body } = mix.take();
      const startMs = epochMs();
      const placed = await place(system, body);
      if (placed.kind === 'shed') {
        shed += 1;
        // The service asked for a second (Retry-After: 1); a tenth keeps the loop closed and busy.
        await sleep(100);
        continue;
      }
      const terminal = await watch.until(placed.orderId);
      outcomes.push({
        orderId: placed.orderId,
        kind,
        startMs,
        acceptedMs: placed.acceptedMs,
        terminalMs: terminal.atMs,
        status: terminal.status,
      });
    }
  };
  const running = new Set(Array.from({ length: clients }, () => client()));
  const drained = await drain(running);
  return { outcomes, shed, unfinished: drained ? 0 : watch.inFlight, fromMs, toMs: stopAt };
}

/**
 * An open loop: one order every `1000 / rate` ms for `durationMs`, whatever the answers, so a slow
 * saga does not slow the arrivals down (a closed loop would hide queueing from its latencies).
 * Then waits until every accepted order is terminal.
 */
export async function openLoop(
  system: OrderPlacer,
  watch: TerminalWatch,
  mix: OrderMix,
  rate: number,
  durationMs: number,
): Promise<LoadRun> {
  const outcomes: Outcome[] = [];
  const pending = new Set<Promise<void>>();
  let shed = 0;
  let failure: unknown;
  const count = Math.round((rate * durationMs) / 1000);
  const start = epochMs();
  for (let i = 0; i < count && !failure; i++) {
    const dueMs = start + (i * 1000) / rate;
    const wait = dueMs - epochMs();
    if (wait > 1) await sleep(wait);
    const { kind, body } = mix.take();
    const startMs = epochMs();
    const order = (async () => {
      const placed = await place(system, body);
      if (placed.kind === 'shed') {
        shed += 1;
        return;
      }
      const terminal = await watch.until(placed.orderId);
      outcomes.push({
        orderId: placed.orderId,
        kind,
        startMs,
        acceptedMs: placed.acceptedMs,
        terminalMs: terminal.atMs,
        status: terminal.status,
      });
    })()
      .catch((error: unknown) => void (failure ??= error))
      .finally(() => pending.delete(order));
    pending.add(order);
  }
  const toMs = epochMs();
  const drained = await drain(pending);
  if (failure) throw failure;
  return { outcomes, shed, unfinished: drained ? 0 : watch.inFlight, fromMs: start, toMs };
}

/**
 * Sagas completed per second between `fromMs` and `toMs`, counted by the time each became
 * terminal: the warm-up before `fromMs` and the drain after `toMs` do not count.
 */
export function completionRate(outcomes: Outcome[], fromMs: number, toMs: number): number {
  const done = outcomes.filter((o) => o.terminalMs >= fromMs && o.terminalMs < toMs).length;
  return done / ((toMs - fromMs) / 1000);
}
