import type { SqlTx } from '@order-saga/outbox';
import type pg from 'pg';
import type { TransactionRunner } from './inbox.transport.js';

/** A node-postgres transaction seen through the {@link SqlTx} slice the messaging libs use. */
export class PgTx implements SqlTx {
  constructor(readonly client: pg.PoolClient) {}

  async $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number> {
    return (await this.client.query(query, values)).rowCount ?? 0;
  }

  async $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T> {
    return (await this.client.query(query, values)).rows as T;
  }
}

/**
 * A transaction runner on a node-postgres pool, for hot consumers whose effect is plain SQL. A
 * Prisma interactive transaction costs about 0.7–1 ms of Node CPU (NOTES.md measured 1.5k tx/s
 * against 6k for node-postgres on 2 cores); at thousands of messages per second that is the
 * consumer's whole budget. Services keep Prisma for domain writes; this is the escape hatch.
 */
export function pgTransaction(pool: pg.Pool): TransactionRunner<PgTx> {
  return async <T>(work: (tx: PgTx) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(new PgTx(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      // A connection that failed mid-transaction is not returned to the pool for reuse.
      client.release(broken);
    }
  };
}
