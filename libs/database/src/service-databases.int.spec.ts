import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProvisionedDatabase } from './database-roles.js';
import { escapeIdentifier, withClient, withDatabase } from './postgres.js';
import { prepareServiceDatabases, serviceRoles } from './service-databases.js';
import { adminUrl, uniqueName } from './test-support.js';
import { serviceSchema } from './workspace.js';

// Made-up service names, so the spec never touches the real services' databases.
const a = uniqueName('svc_spec_a');
const b = uniqueName('svc_spec_b');
const services = [a, b].map((name) => ({ name, ...serviceSchema('order') }));
const passwords = new Map(
  [a, b].flatMap(serviceRoles).map(({ role }) => [role, `pw-${role}-${Math.random().toString(36).slice(2)}`]),
);

const query = (url: string, sql: string) => withClient(url, (c) => c.query(sql));
const asAdmin = (database: string, sql: string) => query(withDatabase(adminUrl, database), sql);

describe('prepareServiceDatabases', () => {
  let dbs: Record<string, ProvisionedDatabase>;
  beforeAll(async () => {
    dbs = await prepareServiceDatabases({ adminUrl, services, passwords });
  });
  afterAll(() =>
    withClient(adminUrl, async (admin) => {
      for (const name of [a, b]) {
        await admin.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`);
        for (const { role } of serviceRoles(name))
          await admin.query(`DROP ROLE IF EXISTS ${escapeIdentifier(role)}`);
      }
    }),
  );

  it('returns a runtime URL per service that logs in as the service’s role on its own database', async () => {
    expect(dbs[a]!.url).toBe(withDatabase(adminUrl, a, { user: a, password: passwords.get(a)! }));
    const whoami = await withClient(
      dbs[a]!.url,
      async (c) => (await c.query('SELECT current_user, current_database()')).rows[0],
    );
    expect(whoami).toEqual({ current_user: a, current_database: a });
  });

  it('a service role cannot connect to another service’s database', async () => {
    const intruder = withDatabase(adminUrl, b, { user: a, password: passwords.get(a)! });
    await expect(withClient(intruder, (c) => c.query('SELECT 1'))).rejects.toMatchObject({ code: '42501' });
  });

  it('migrates as the migrator, which owns the database, its schema and every table', async () => {
    const owners = (
      await asAdmin(
        a,
        `SELECT (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()) AS database,
                (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public') AS schema,
                array(SELECT DISTINCT tableowner::text FROM pg_tables WHERE schemaname = 'public') AS tables`,
      )
    ).rows[0];
    expect(owners).toEqual({ database: `${a}_migrator`, schema: `${a}_migrator`, tables: [`${a}_migrator`] });
  });

  it('the runtime role reads and writes rows, takes sequence values and fires the outbox trigger', async () => {
    await withClient(dbs[a]!.url, async (c) => {
      await c.query('LISTEN outbox');
      const notified = new Promise((resolve) => c.once('notification', resolve));
      await c.query(
        `INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, topic, schema_version, correlation_id)
         VALUES (gen_random_uuid(), 'order', 'o-1', 'OrderPlaced', '{}', 'order.events', 1, 'c-1')`,
      );
      await c.query(`UPDATE outbox SET published_at = now() WHERE aggregateid = 'o-1'`);
      expect((await c.query(`SELECT count(*)::int AS n FROM outbox`)).rows[0].n).toBe(1);
      await c.query(`DELETE FROM outbox WHERE aggregateid = 'o-1'`);
      await c.query('SELECT pg_advisory_lock(42), pg_advisory_unlock(42)');
      await expect(notified).resolves.toBeDefined();
    });
  });

  it('the runtime role cannot drop, alter or truncate a table, disable the trigger, or create anything', async () => {
    const refused = [
      'DROP TABLE outbox',
      'TRUNCATE outbox',
      'ALTER TABLE outbox ADD COLUMN sneaky int',
      'ALTER TABLE outbox DISABLE TRIGGER outbox_notify',
      'DROP TRIGGER outbox_notify ON outbox',
      'CREATE TABLE sneaky (id int)',
      'CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$',
      'SELECT * FROM _prisma_migrations',
      `DELETE FROM _prisma_migrations`,
    ];
    for (const sql of refused) {
      await expect(query(dbs[a]!.url, sql), sql).rejects.toMatchObject({ code: '42501' });
    }
    // From a database every role may reach: dropping the service's database is refused too.
    const elsewhere = withDatabase(adminUrl, 'postgres', { user: a, password: passwords.get(a)! });
    await expect(query(elsewhere, `DROP DATABASE ${escapeIdentifier(a)}`)).rejects.toMatchObject({
      code: '42501',
    });
  });

  it('a table a later migration creates is readable and writable by the runtime role (default privileges)', async () => {
    await query(dbs[a]!.migratorUrl, 'CREATE TABLE later_feature (id bigserial PRIMARY KEY, note text)');
    await query(dbs[a]!.url, `INSERT INTO later_feature (note) VALUES ('granted')`);
    expect((await query(dbs[a]!.url, 'SELECT note FROM later_feature')).rows).toEqual([{ note: 'granted' }]);
    await expect(query(dbs[a]!.url, 'DROP TABLE later_feature')).rejects.toMatchObject({ code: '42501' });
  });

  it('running it again keeps the rows, applies no migration twice and takes back what the runtime role owned', async () => {
    await query(
      dbs[b]!.url,
      `INSERT INTO inbox (consumer, message_id, topic, partition, "offset") VALUES ('spec', gen_random_uuid(), 't', 0, 1)`,
    );
    // The layout before the split: the runtime role owned the tables.
    await asAdmin(b, `ALTER TABLE inbox OWNER TO ${escapeIdentifier(b)}`);

    const again = await prepareServiceDatabases({ adminUrl, services, passwords });

    expect(again).toEqual(dbs);
    const [inbox, migrations, distinct] = await withClient(dbs[b]!.migratorUrl, async (c) => [
      Number((await c.query('SELECT count(*) FROM inbox')).rows[0].count),
      (await c.query('SELECT migration_name FROM _prisma_migrations')).rows.length,
      (await c.query('SELECT DISTINCT migration_name FROM _prisma_migrations')).rows.length,
    ]);
    expect(inbox).toBe(1);
    expect(migrations).toBeGreaterThan(0);
    expect(migrations).toBe(distinct);
    await expect(query(dbs[b]!.url, 'DROP TABLE inbox')).rejects.toMatchObject({ code: '42501' });
  });
});
