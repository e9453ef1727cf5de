import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withDatabase } from '@order-saga/database';
import pg from 'pg';

const prismaDir = fileURLToPath(new URL('../../../../prisma', import.meta.url));

/** The services whose tables the peers' steps write, each in a schema named after it. */
export const serviceSchemas = ['order', 'inventory', 'payment', 'shipping'] as const;

/** A scratch database made for one run; `drop` removes it whatever is still connected. */
export interface PeerDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A pool whose sessions find one service's tables by their plain names, as the services' own queries name them. */
export function schemaPool(url: string, schema: (typeof serviceSchemas)[number], max: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    options: `-c search_path=${pg.escapeIdentifier(schema)}`,
  });
  // pool.end() resolves before its sessions are gone, so dropping the database right after
  // terminates them: expected, and no reason to crash the run.
  pool.on('error', () => undefined);
  return pool;
}

/** Reads any service's schema (a small pool per schema, opened on first use), to check invariants. */
export function schemaReader(url: string): {
  query<T extends pg.QueryResultRow>(schema: (typeof serviceSchemas)[number], sql: string): Promise<T[]>;
  end(): Promise<void>;
} {
  const pools = new Map<string, pg.Pool>();
  return {
    async query<T extends pg.QueryResultRow>(schema: (typeof serviceSchemas)[number], sql: string) {
      let pool = pools.get(schema);
      if (!pool) {
        pool = schemaPool(url, schema, 1);
        pools.set(schema, pool);
      }
      return (await pool.query<T>(sql)).rows;
    },
    end: async () => void (await Promise.all([...pools.values()].map((pool) => pool.end()))),
  };
}

async function admin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** An empty scratch database (e.g. DBOS's system database, which DBOS migrates itself). */
export async function createEmptyDatabase(adminUrl: string, prefix: string): Promise<PeerDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await admin(adminUrl, (client) => client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  return {
    name,
    url: withDatabase(adminUrl, name),
    drop: () =>
      admin(adminUrl, async (client) => {
        // FORCE: an engine that did not close its pool must not keep the database alive.
        await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      }),
  };
}

/**
 * A scratch database holding the four services' tables, each service in its own schema, created by
 * the services' own migrations (seed included): the same tables, indexes and rows as ours, in one
 * database, so a step that ends the saga can write stock and the order in one transaction.
 */
export async function createPeerDatabase(adminUrl: string, prefix: string): Promise<PeerDatabase> {
  const database = await createEmptyDatabase(adminUrl, prefix);
  const client = new pg.Client({ connectionString: database.url });
  try {
    await client.connect();
    for (const schema of serviceSchemas) {
      const migrations = join(prismaDir, schema, 'migrations');
      const folders = (await readdir(migrations, { withFileTypes: true }))
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort();
      await client.query(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`);
      // Prisma's migrations name no schema: they land in the first one on the search path.
      await client.query(`SET search_path TO ${pg.escapeIdentifier(schema)}`);
      for (const folder of folders)
        await client.query(await readFile(join(migrations, folder, 'migration.sql'), 'utf8'));
    }
    await client.query('ANALYZE');
  } catch (error) {
    await client.end().catch(() => undefined);
    await database.drop();
    throw error;
  }
  await client.end();
  return database;
}
