import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { OrderPlacer } from '@order-saga/e2e/harness';
import type pg from 'pg';

/** A service's tables: each service's own database in order-saga, a schema of one database in the peers. */
export type ServiceTables = 'order' | 'inventory' | 'payment' | 'shipping';

/** Where a process's CPU time is counted: the engine's own server, Node.js code, the database, the broker. */
export type CpuGroup = 'engine' | 'Node' | 'PostgreSQL' | 'Kafka';

/** One implementation of the order saga, running, as the benchmark and the tests drive it. */
export interface Engine extends OrderPlacer {
  /** e.g. `DBOS Transact 5.3.0`. */
  readonly name: string;
  /** A pool on the database whose `"order"` table (on its search path) gets each saga's final status. */
  readonly orders: pg.Pool;
  /** The databases the engine writes (its commits are counted there). */
  readonly databases: string[];
  /** Reads a service's tables (unqualified names), to check invariants; never to fake a step. */
  query<T extends pg.QueryResultRow>(tables: ServiceTables, sql: string): Promise<T[]>;
  /**
   * Bytes written so far to the engine's own durable storage outside PostgreSQL (Restate's log and
   * state; order-saga's Kafka topics), when it has any: read at both ends of a window.
   */
  storageBytes?(): Promise<number>;
  /** Which of the machine's processes are this engine's, and where their CPU counts. */
  classify(proc: { pid: number; ppid: number; cmdline: string }): CpuGroup | null;
  /** Stops every process and removes every database and file it made. */
  stop(): Promise<void>;
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Runs every cleanup even when one fails, then throws the first failure. */
export async function cleanUp(...steps: (() => Promise<unknown>)[]): Promise<void> {
  let failure: unknown;
  for (const step of steps) await step().catch((error: unknown) => void (failure ??= error));
  if (failure) throw failure;
}

/** The exact version this package pins of a dependency (for the report's column names). */
export function pinnedVersion(dependency: string): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  return manifest.devDependencies[dependency] ?? 'unknown';
}
