import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATION_FILE, applyMigrations, createMigration, readMigrations } from './migrations.js';
import { escapeIdentifier, withClient, withDatabase } from './postgres.js';
import { adminUrl, uniqueName } from './test-support.js';
import { serviceSchema } from './workspace.js';

const order = serviceSchema('order');

async function createEmptyDatabase(): Promise<{ url: string; drop: () => Promise<unknown> }> {
  const name = uniqueName('migrations_spec');
  await withClient(adminUrl, (admin) => admin.query(`CREATE DATABASE ${escapeIdentifier(name)}`));
  return {
    url: withDatabase(adminUrl, name),
    drop: () =>
      withClient(adminUrl, (admin) => admin.query(`DROP DATABASE ${escapeIdentifier(name)} WITH (FORCE)`)),
  };
}

describe('applyMigrations', () => {
  let db: { url: string; drop: () => Promise<unknown> };
  beforeAll(async () => {
    db = await createEmptyDatabase();
  });
  afterAll(() => db.drop());

  it('applies every migration once and nothing on a second run', async () => {
    const first = await applyMigrations({ databaseUrl: db.url, ...order });
    const second = await applyMigrations({ databaseUrl: db.url, ...order });

    const onDisk = (await readMigrations(order.migrationsDir)).migrationDirectories.map((m) => m.path);
    expect(onDisk.length).toBeGreaterThan(0);
    expect(first).toEqual(onDisk);
    expect(second).toEqual([]);
  });

  it('records each migration as prisma migrate deploy does: sha256 of migration.sql, finished', async () => {
    const { migrationDirectories } = await readMigrations(order.migrationsDir);
    const rows = await withClient(
      db.url,
      async (client) =>
        (
          await client.query(
            'SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count, logs FROM _prisma_migrations ORDER BY migration_name',
          )
        ).rows,
    );

    expect(rows).toHaveLength(migrationDirectories.length);
    for (const [i, dir] of migrationDirectories.entries()) {
      const sql = await readFile(join(order.migrationsDir, dir.path, MIGRATION_FILE));
      expect(rows[i]).toMatchObject({
        migration_name: dir.path,
        checksum: createHash('sha256').update(sql).digest('hex'),
        rolled_back_at: null,
        applied_steps_count: 1,
        logs: null,
      });
      expect(rows[i].finished_at).toBeInstanceOf(Date);
    }
  });

  it('creates the hand-written trigger, which notifies the relay once per inserting statement', async () => {
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    try {
      const notifications: string[] = [];
      listener.on('notification', (n) => notifications.push(n.channel));
      await listener.query('LISTEN outbox');
      await withClient(db.url, (client) =>
        client.query(
          `INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, topic, schema_version, correlation_id)
           SELECT gen_random_uuid(), 'order', 'o-1', 'OrderPlaced', '{}', 'order.events', 1, 'c-1' FROM generate_series(1, 3)`,
        ),
      );
      await expect.poll(() => notifications.length).toBeGreaterThan(0);
      // Notifications come before a query's reply: after this round trip, every one has arrived.
      await listener.query('SELECT 1');
      expect(notifications).toEqual(['outbox']);
    } finally {
      await listener.end();
    }
  });

  it('creates the partial indexes the relay and the clean-up rely on', async () => {
    const indexes = await withClient(
      db.url,
      async (client) =>
        (
          await client.query(
            `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'outbox' ORDER BY indexname`,
          )
        ).rows,
    );
    expect(indexes.map((i) => i.indexname)).toEqual([
      'outbox_parked_idx',
      'outbox_pkey',
      'outbox_published_at_idx',
      'outbox_seq_key',
      'outbox_unpublished_idx',
    ]);
    expect(indexes.find((i) => i.indexname === 'outbox_unpublished_idx')?.indexdef).toContain(
      'WHERE (published_at IS NULL)',
    );
    // The relay's claim skips aggregates with a parked row through this one.
    expect(indexes.find((i) => i.indexname === 'outbox_parked_idx')?.indexdef).toContain(
      'WHERE ((parked_at IS NOT NULL) AND (published_at IS NULL))',
    );
  });
});

describe('a failing migration', () => {
  let dir: string;
  let db: { url: string; drop: () => Promise<unknown> };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'failing-migration-'));
    await cp(join(order.migrationsDir, 'migration_lock.toml'), join(dir, 'migration_lock.toml'));
    await mkdir(join(dir, '20990101000000_broken'));
    await writeFile(
      join(dir, '20990101000000_broken', MIGRATION_FILE),
      'CREATE TABLE half (id int);\nSELECT 1 / 0;\n',
    );
    db = await createEmptyDatabase();
  });
  afterAll(async () => {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('is reported with the server’s error and leaves none of its statements applied', async () => {
    await expect(
      applyMigrations({ databaseUrl: db.url, schemaPath: order.schemaPath, migrationsDir: dir }),
    ).rejects.toThrow(/division by zero/);
    const half = await withClient(
      db.url,
      async (c) => (await c.query(`SELECT to_regclass('half') AS t`)).rows[0].t,
    );
    expect(half).toBeNull();
  });
});

describe('createMigration', () => {
  let dir: string;
  let db: { url: string; drop: () => Promise<unknown> };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'create-migration-'));
    await cp(join(order.schemaPath, '..'), dir, { recursive: true });
    db = await createEmptyDatabase();
  });
  afterAll(async () => {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const location = () => ({ schemaPath: join(dir, 'schema.prisma'), migrationsDir: join(dir, 'migrations') });

  it('writes nothing when the schema has not changed since the last migration', async () => {
    expect(await createMigration({ ...location(), name: 'nothing', databaseUrl: adminUrl })).toBeNull();
  });

  it('writes only what changed since the last migration, and it applies on top of the others', async () => {
    const { schemaPath, migrationsDir } = location();
    await writeFile(
      schemaPath,
      `${await readFile(schemaPath, 'utf8')}\nmodel Customer {\n  id String @id\n  @@map("customer")\n}\n`,
    );

    const created = await createMigration({
      schemaPath,
      migrationsDir,
      name: 'Add customers',
      databaseUrl: adminUrl,
      now: new Date('2099-01-02T03:04:05Z'),
    });

    expect(created?.name).toBe('20990102030405_add_customers');
    expect(created?.sql).toContain('CREATE TABLE "customer"');
    expect(created?.sql).not.toContain('"outbox"');
    await applyMigrations({ databaseUrl: db.url, schemaPath, migrationsDir });
    const tables = await withClient(db.url, async (client) =>
      (
        await client.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`)
      ).rows.map((r) => r.tablename),
    );
    expect(tables).toEqual(expect.arrayContaining(['_prisma_migrations', 'customer', 'inbox', 'outbox']));
    expect(
      await createMigration({ schemaPath, migrationsDir, name: 'again', databaseUrl: adminUrl }),
    ).toBeNull();
  });
});
