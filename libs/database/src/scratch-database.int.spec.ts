import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { withClient } from './postgres.js';
import { type ScratchDatabase, createScratchDatabase } from './scratch-database.js';
import { adminUrl } from './test-support.js';
import { testbedSchema } from './workspace.js';

const databaseExists = (name: string) =>
  withClient(
    adminUrl,
    async (admin) =>
      (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1,
  );

describe('createScratchDatabase', () => {
  const created: ScratchDatabase[] = [];
  const scratch = async () => {
    const db = await createScratchDatabase({ adminUrl, prefix: 'scratch_spec', ...testbedSchema() });
    created.push(db);
    return db;
  };
  afterAll(() => Promise.all(created.map((db) => db.drop())));

  it('gives every call its own migrated database, so no run sees another run’s rows', async () => {
    const first = await scratch();
    await withClient(first.url, (c) => c.query(`INSERT INTO aggregate (id) VALUES ('a-1')`));
    const second = await scratch();

    expect(second.name).not.toBe(first.name);
    expect(second.name).toMatch(/^scratch_spec_[0-9a-f]{12}$/);
    const count = (url: string) =>
      withClient(url, async (c) => Number((await c.query('SELECT count(*) FROM aggregate')).rows[0].count));
    expect(await count(first.url)).toBe(1);
    expect(await count(second.url)).toBe(0);
  });

  it('drop removes the database even while a connection is still open on it', async () => {
    const db = await scratch();
    const forgotten = new pg.Client({ connectionString: db.url });
    const terminated = new Promise<unknown>((resolve) => forgotten.on('error', resolve));
    await forgotten.connect();
    expect(await databaseExists(db.name)).toBe(true);

    await db.drop();

    expect(await databaseExists(db.name)).toBe(false);
    expect(await terminated).toMatchObject({ code: '57P01' });
  });
});
