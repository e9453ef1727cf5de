import type { SqlTx } from '@order-saga/outbox';
import type pg from 'pg';
import { TransactionTimeoutError } from './errors.js';
import type { TransactionRunner } from './inbox.transport.js';

/**
 * A node-postgres transaction: what hot paths (handlers, stores, `POST /orders`, the saga store)
 * write through. `query` and `execute` are the plain API; the `$…RawUnsafe` pair is the
 * {@link SqlTx} slice the outbox and the inbox also accept from a Prisma transaction.
 */
export class PgTx implements SqlTx {
  private expired?: TransactionTimeoutError;

  constructor(readonly client: pg.PoolClient) {}

  /** Rows of one statement (`$1`… parameters). */
  async query<R extends object = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
  ): Promise<R[]> {
    return (await this.send<R>(text, values)).rows;
  }

  /** Rows affected by one statement. */
  async execute(text: string, values?: readonly unknown[]): Promise<number> {
    return (await this.send(text, values)).rowCount ?? 0;
  }

  async $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number> {
    return this.execute(query, values);
  }

  async $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T> {
    return (await this.send(query, values)).rows as T;
  }

  /** After this, every statement fails: it would run after the ROLLBACK, outside any transaction. */
  expire(error: TransactionTimeoutError): void {
    this.expired = error;
  }

  private send<R extends object>(text: string, values?: readonly unknown[]): Promise<pg.QueryResult<R>> {
    if (this.expired) return Promise.reject(this.expired);
    const name = statementName(text);
    return this.client.query<R>(
      name ? { name, text, values: values as unknown[] | undefined } : { text, values: values as unknown[] | undefined },
    );
  }
}

/** Most distinct statement texts given a name; the rest run unnamed (parsed each time). */
const MAX_NAMED_STATEMENTS = 500;
const statementNames = new Map<string, string>();

/**
 * A name for a statement text, so that each connection parses and plans it once and then only binds
 * and executes it (what `pgbench -M prepared` does): an unnamed statement is parsed again on every
 * call, which on a saga step's CTEs costs the server more than executing them. Hot paths run a few
 * dozen distinct texts; the cap keeps a caller that builds texts on the fly from filling every
 * connection with statements it will not run again.
 */
function statementName(text: string): string | undefined {
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < MAX_NAMED_STATEMENTS) {
    name = `order_saga_${statementNames.size}`;
    statementNames.set(text, name);
  }
  return name;
}

/**
 * A transaction runner on a node-postgres pool: every per-message and per-request path runs on it.
 * A Prisma interactive transaction costs about 0.7–1 ms of Node CPU (NOTES.md measured 1.5k tx/s
 * against 6k for node-postgres on 2 cores); at thousands of messages per second that is the
 * consumer's whole budget. Prisma keeps the schema, the migrations, the row types and the cold paths.
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
