import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeIdentifier, withClient, withDatabase } from './postgres.js';
import { prepareServiceDatabases } from './service-databases.js';
import { adminUrl, uniqueName } from './test-support.js';
import { serviceSchema } from './workspace.js';

// Made-up service names, so the spec never touches the real services' databases.
const a = uniqueName('svc_spec_a');
const b = uniqueName('svc_spec_b');
const services = [a, b].map((name) => ({ name, ...serviceSchema('order') }));

describe('prepareServiceDatabases', () => {
  let urls: Record<string, string>;
  beforeAll(async () => {
    urls = await prepareServiceDatabases({ adminUrl, services });
  });
  afterAll(() =>
    withClient(adminUrl, async (admin) => {
      for (const name of [a, b]) {
        await admin.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`);
        await admin.query(`DROP ROLE IF EXISTS ${escapeIdentifier(name)}`);
      }
    }),
  );

  it('returns a URL per service that logs in as the service’s role on its own database', async () => {
    expect(urls[a]).toBe(withDatabase(adminUrl, a, { user: a, password: a }));
    const whoami = await withClient(
      urls[a]!,
      async (c) => (await c.query('SELECT current_user, current_database()')).rows[0],
    );
    expect(whoami).toEqual({ current_user: a, current_database: a });
  });

  it('a service role cannot connect to another service’s database', async () => {
    const intruder = withDatabase(adminUrl, b, { user: a, password: a });
    await expect(withClient(intruder, (c) => c.query('SELECT 1'))).rejects.toMatchObject({ code: '42501' });
  });

  it('migrates as the service role, so the role owns its database, schema and tables', async () => {
    const owners = await withClient(
      withDatabase(adminUrl, a),
      async (admin) =>
        (
          await admin.query(`
          SELECT (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()) AS database,
                 (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public') AS schema,
                 array(SELECT DISTINCT tableowner::text FROM pg_tables WHERE schemaname = 'public') AS tables`)
        ).rows[0],
    );
    expect(owners).toEqual({ database: a, schema: a, tables: [a] });
  });

  it('running it again keeps everything and applies no migration twice', async () => {
    await withClient(urls[b]!, (c) =>
      c.query(
        `INSERT INTO inbox (consumer, message_id, topic, partition, "offset") VALUES ('spec', gen_random_uuid(), 't', 0, 1)`,
      ),
    );

    const again = await prepareServiceDatabases({ adminUrl, services });

    expect(again).toEqual(urls);
    const [inbox, migrations, distinct] = await withClient(urls[b]!, async (c) => [
      Number((await c.query('SELECT count(*) FROM inbox')).rows[0].count),
      (await c.query('SELECT migration_name FROM _prisma_migrations')).rows.length,
      (await c.query('SELECT DISTINCT migration_name FROM _prisma_migrations')).rows.length,
    ]);
    expect(inbox).toBe(1);
    expect(migrations).toBeGreaterThan(0);
    expect(migrations).toBe(distinct);
  });
});
