import type pg from 'pg';
import { applyMigrations } from './migrations.js';
import {
  assertPlainIdentifier,
  escapeIdentifier,
  escapeLiteral,
  withClient,
  withDatabase,
} from './postgres.js';
import { type PrismaSchemaLocation, databaseName, serviceSchema } from './workspace.js';

/** A service database to prepare: its name (also its role's) and the schema it is migrated with. */
export interface ServiceDatabase extends PrismaSchemaLocation {
  name: string;
}

/** Options of {@link prepareServiceDatabases}. */
export interface PrepareServiceDatabasesOptions {
  /** A superuser connection, e.g. `postgresql://postgres@127.0.0.1:5432/postgres`. */
  adminUrl: string;
  /** Service names (schema from `prisma/<name>/`) or explicit locations. */
  services: ReadonlyArray<string | ServiceDatabase>;
}

// Duplicate role or database: another process prepared it between our check and our CREATE.
const ALREADY_EXISTS = new Set(['42710', '42P04', '23505']);

/**
 * Gives each service its own role and database, both named after the service, and migrates it.
 * Each database is closed to PUBLIC and open to its role only, which owns the database and its
 * `public` schema; migrations run as that role, so the tables belong to it too. Safe to run again:
 * what exists is kept, privileges and ownership are re-asserted, only new migrations run.
 *
 * The role's password is the service's name: this is for local development, where the server
 * trusts local connections anyway.
 *
 * @returns each service's connection URL, `postgresql://<service>:<service>@<host>:<port>/<service>`.
 */
export async function prepareServiceDatabases(
  options: PrepareServiceDatabasesOptions,
): Promise<Record<string, string>> {
  const services = options.services.map((s) =>
    typeof s === 'string' ? { name: databaseName(s), ...serviceSchema(s) } : s,
  );
  for (const { name } of services) assertPlainIdentifier('service name', name);

  const urls: Record<string, string> = {};
  for (const service of services) {
    const role = escapeIdentifier(service.name);
    await withClient(options.adminUrl, async (admin) => {
      await ignoreIfExists(admin, `CREATE ROLE ${role} LOGIN PASSWORD ${escapeLiteral(service.name)}`);
      await admin.query(`ALTER ROLE ${role} LOGIN PASSWORD ${escapeLiteral(service.name)}`);
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [service.name]);
      if (!rowCount) await ignoreIfExists(admin, `CREATE DATABASE ${role} OWNER ${role}`);
      await admin.query(`ALTER DATABASE ${role} OWNER TO ${role}`);
      // PostgreSQL lets every role connect to every database unless PUBLIC loses CONNECT.
      await admin.query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${role} FROM PUBLIC`);
      await admin.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${role} TO ${role}`);
    });
    await withClient(withDatabase(options.adminUrl, service.name), (admin) =>
      admin.query(`ALTER SCHEMA public OWNER TO ${role}`),
    );
    const url = withDatabase(options.adminUrl, service.name, { user: service.name, password: service.name });
    await applyMigrations({
      databaseUrl: url,
      schemaPath: service.schemaPath,
      migrationsDir: service.migrationsDir,
    });
    urls[service.name] = url;
  }
  return urls;
}

async function ignoreIfExists(client: pg.Client, sql: string): Promise<void> {
  try {
    await client.query(sql);
  } catch (error) {
    if (!ALREADY_EXISTS.has((error as { code?: string }).code ?? '')) throw error;
  }
}
