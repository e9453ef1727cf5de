/**
 * What the benchmark runs in child processes, and what they tell it. The pieces of a pipeline run
 * in separate processes, as they would in production: a writer's Prisma work on the same event
 * loop would otherwise show up as relay or consumer latency.
 */

/** `each`: report every message id with its receive time (latency runs); `count`: only how many and when. */
export type ReportMode = 'each' | 'count';

/** `prisma`: an interactive Prisma transaction (what the services use); `pg`: `pgTransaction` from `@order-saga/consumer`. */
export type TransactionKind = 'prisma' | 'pg';

export type WorkerConfig =
  | { role: 'relay'; databaseUrl: string; brokers: string[] }
  | {
      role: 'inbox-consumer';
      databaseUrl: string;
      brokers: string[];
      topicPrefix: string;
      consumerName: string;
      report: ReportMode;
      /** The transaction the effect and the inbox record commit in: Prisma's, or node-postgres'. */
      transactions: TransactionKind;
    }
  | {
      role: 'raw-consumer';
      brokers: string[];
      topic: string;
      groupId: string;
      /** One awaited offset commit per batch (the throughput ceiling) or none (latency: nothing in the fetch path). */
      commitPerBatch: boolean;
      report: ReportMode;
    };

export type WorkerReport =
  | { kind: 'ready' }
  /** Receive times in microseconds of `process.hrtime` (CLOCK_MONOTONIC: comparable across processes). */
  | { kind: 'seen'; ids: string[]; at: number[] }
  /** `firstCount` were counted at `firstAt`: a rate over `firstAt..lastAt` covers the other `count - firstCount`. */
  | { kind: 'count'; count: number; firstCount: number; firstAt: number; lastAt: number }
  | { kind: 'stopped' };

export type WorkerCommand = { kind: 'stop' };

/** Now, in microseconds of the system-wide monotonic clock, so a child's stamps compare with the parent's. */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
