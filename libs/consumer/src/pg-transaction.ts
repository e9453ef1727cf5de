import type { SqlTx } from '@order-saga/outbox';
import type pg from 'pg';
import { TransactionTimeoutError } from './errors.js';
import type { TransactionRunner } from './inbox.transport.js';

/** A node-postgres transaction seen through the {@link SqlTx} slice the messaging libs use. */
export class PgTx implements SqlTx {
  private expired?: TransactionTimeoutError;

  constructor(readonly client: pg.PoolClient) {}

  async $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number> {
    return (await this.query(query, values)).rowCount ?? 0;
  }

  async $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T> {
    return (await this.query(query, values)).rows as T;
  }

  /** After this, every statement fails: it would run after the ROLLBACK, outside any transaction. */
  expire(error: TransactionTimeoutError): void {
    this.expired = error;
  }

  private query(query: string, values: unknown[]) {
    if (this.expired) throw this.expired;
    return this.client.query(query, values);
  }
}

/**
 * A transaction runner on a node-postgres pool, for hot consumers whose effect is plain SQL. A
 * Prisma interactive transaction costs about 0.7–1 ms of Node CPU (NOTES.md measured 1.5k tx/s
 * against 6k for node-postgres on 2 cores); at thousands of messages per second that is the
 * consumer's whole budget. Services keep Prisma for domain writes; this is the escape hatch.
 */
export function pgTransaction(pool: pg.Pool): TransactionRunner<PgTx> {
  return async <T>(work: (tx: PgTx) => Promise<T>, { timeoutMs }: { timeoutMs: number }): Promise<T> => {
    const client = await pool.connect();
    let broken = false;
    let timer: NodeJS.Timeout | undefined;
    try {
      await client.query('BEGIN');
      const tx = new PgTx(client);
      // Like Prisma's interactive timeout: the work is abandoned (its next statement fails) and the
      // transaction rolled back, so a slow message cannot hold its locks and its partition.
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new TransactionTimeoutError(`transaction exceeded its ${timeoutMs} ms timeout`);
          tx.expire(error);
          reject(error);
        }, timeoutMs);
      });
      const working = work(tx);
      // Once abandoned, its own failure (the expired statement) has nobody left to tell.
      working.catch(() => undefined);
      const result = await Promise.race([working, expired]);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      clearTimeout(timer);
      // A connection that failed mid-transaction is not returned to the pool for reuse.
      client.release(broken);
    }
  };
}
