import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { TransactionTimeoutError } from './errors.js';
import { pgTransaction, type PgTx } from './pg-transaction.js';

const adminUrl = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const pool = new pg.Pool({ connectionString: adminUrl, max: 2 });
afterAll(() => pool.end());

describe('pgTransaction', () => {
  it('rolls back a transaction that outlives its timeout and refuses the abandoned work any further statement', async () => {
    const run = pgTransaction(pool);
    let abandoned: Promise<unknown> | undefined;
    const started = Date.now();

    const outcome = run(
      async (tx: PgTx) => {
        const pid = await tx.$queryRawUnsafe<{ pid: number }[]>('SELECT pg_backend_pid() AS pid');
        await sleep(1500);
        // What a slow handler does next: it must not run after the ROLLBACK, outside any transaction.
        abandoned = tx.$executeRawUnsafe('SELECT 1');
        await abandoned;
        return pid;
      },
      { timeoutMs: 200 },
    );

    await expect(outcome).rejects.toBeInstanceOf(TransactionTimeoutError);
    expect(Date.now() - started).toBeLessThan(1200);
    await sleep(1500);
    await expect(abandoned).rejects.toBeInstanceOf(TransactionTimeoutError);
  });

  it('commits work that finishes in time', async () => {
    const run = pgTransaction(pool);
    const rows = await run((tx: PgTx) => tx.$queryRawUnsafe<{ one: number }[]>('SELECT 1 AS one'), { timeoutMs: 5000 });
    expect(rows).toEqual([{ one: 1 }]);
  });

  it('prepares each statement text once per connection and then only executes it', async () => {
    const single = new pg.Pool({ connectionString: adminUrl, max: 1 });
    try {
      const run = pgTransaction(single);
      const text = 'SELECT $1::int + 1 AS next';
      for (const n of [1, 2, 3]) {
        const rows = await run((tx: PgTx) => tx.query<{ next: number }>(text, [n]), { timeoutMs: 5000 });
        expect(rows).toEqual([{ next: n + 1 }]);
      }
      const prepared = await run(
        (tx: PgTx) =>
          tx.query<{ statement: string }>(
            `SELECT statement FROM pg_prepared_statements WHERE statement = $1`,
            [text],
          ),
        { timeoutMs: 5000 },
      );
      // One prepared statement on the session for three calls: parsed once, executed three times.
      expect(prepared).toEqual([{ statement: text }]);
    } finally {
      await single.end();
    }
  });
});
