import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { applyMigrations } from './migrations.js';
import {
  assertPlainIdentifier,
  escapeIdentifier,
  escapeLiteral,
  withClient,
  withDatabase,
} from './postgres.js';
import type { PrismaSchemaLocation } from './workspace.js';

/** A role that logs in with a password. */
export interface RoleCredentials {
  name: string;
  password: string;
}

/** Options of {@link provisionDatabase}. */
export interface ProvisionDatabaseOptions extends PrismaSchemaLocation {
  /** A connection allowed to create roles and databases (a superuser locally). */
  adminUrl: string;
  database: string;
  /** Owns the database, its schema and every table; runs the migrations. Services never use it. */
  migrator: RoleCredentials;
  /** What the service connects as: reads and writes rows, changes no schema. */
  runtime: RoleCredentials;
}

/** The two URLs of a provisioned database, passwords included: keep them in memory, never print them. */
export interface ProvisionedDatabase {
  /** The service's connection: the runtime role. */
  url: string;
  /** The migrator's connection: for migrations and schema tools only. */
  migratorUrl: string;
}

// Duplicate role or database: another process prepared it between our check and our CREATE.
const ALREADY_EXISTS = new Set(['42710', '42P04', '23505']);

/** The name of a service's migrator role: `order` → `order_migrator`. */
export const migratorRole = (runtimeRole: string) => `${runtimeRole}_migrator`;

/**
 * Creates (or brings up to date) a database with two roles and migrates it:
 *
 * - the migrator owns the database, its `public` schema and everything the migrations create;
 * - the runtime role may connect, use the schema, SELECT/INSERT/UPDATE/DELETE every table and use
 *   its sequences. It cannot DROP, ALTER or TRUNCATE a table, disable the outbox's NOTIFY trigger,
 *   create anything, or read `_prisma_migrations`. Advisory locks and LISTEN need no grant.
 *
 * Default privileges give the runtime role the same rights on tables and sequences that later
 * migrations create, so a new migration needs no GRANT of its own. A database from before the
 * split (the runtime role owning everything) has its objects handed to the migrator. Safe to run
 * again: what exists is kept, ownership, privileges and passwords are re-asserted, only new
 * migrations run.
 */
export async function provisionDatabase(options: ProvisionDatabaseOptions): Promise<ProvisionedDatabase> {
  const { database, migrator, runtime } = options;
  for (const [kind, name] of [
    ['database name', database],
    ['migrator role', migrator.name],
    ['runtime role', runtime.name],
  ] as const) {
    assertPlainIdentifier(kind, name);
  }
  const db = escapeIdentifier(database);
  const owner = escapeIdentifier(migrator.name);
  const app = escapeIdentifier(runtime.name);

  await withClient(options.adminUrl, async (admin) => {
    for (const role of [migrator, runtime]) {
      const name = escapeIdentifier(role.name);
      await ignoreIfExists(admin, `CREATE ROLE ${name} LOGIN`);
      // Sent as a SCRAM verifier, as psql's \password does: the clear text never reaches the
      // server, so a server logging DDL (log_statement = 'ddl') cannot write it to its log.
      await admin.query(
        `ALTER ROLE ${name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${escapeLiteral(scramVerifier(role.password))}`,
      );
    }
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await ignoreIfExists(admin, `CREATE DATABASE ${db} OWNER ${owner}`);
    await admin.query(`ALTER DATABASE ${db} OWNER TO ${owner}`);
    // PostgreSQL lets every role connect to every database unless PUBLIC loses CONNECT.
    await admin.query(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC, ${app}`);
    await admin.query(`GRANT CONNECT ON DATABASE ${db} TO ${app}`);
  });

  await withClient(withDatabase(options.adminUrl, database), async (admin) => {
    // Before the split, the runtime role owned the schema and every table.
    await admin.query(`REASSIGN OWNED BY ${app} TO ${owner}`);
    await admin.query(`ALTER SCHEMA public OWNER TO ${owner}`);
    await admin.query(`REVOKE ALL ON SCHEMA public FROM PUBLIC, ${app}`);
    await admin.query(`GRANT USAGE ON SCHEMA public TO ${app}`);
    await admin.query(
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${app}`,
    );
    await admin.query(
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${app}`,
    );
  });

  const credentials = (role: RoleCredentials) => ({ user: role.name, password: role.password });
  const migratorUrl = withDatabase(options.adminUrl, database, credentials(migrator));
  await applyMigrations({
    databaseUrl: migratorUrl,
    schemaPath: options.schemaPath,
    migrationsDir: options.migrationsDir,
  });

  await withClient(migratorUrl, async (owned) => {
    await owned.query('BEGIN');
    // Tables from before the default privileges existed (or from before the split).
    await owned.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${app}`);
    await owned.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${app}`);
    await owned.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${app}`);
    // Migration history is the migrator's business; a service that rewrote it could hide a change.
    await owned.query(`REVOKE ALL ON TABLE _prisma_migrations FROM ${app}`);
    await owned.query('COMMIT');
    // The runtime role may not ANALYZE tables it does not own: statistics for fresh tables come
    // from here (the outbox relay's queries need them to use their index) and from autovacuum.
    await owned.query('ANALYZE');
  });

  return { url: withDatabase(options.adminUrl, database, credentials(runtime)), migratorUrl };
}

/**
 * The form PostgreSQL stores a SCRAM-SHA-256 password in (RFC 5802/7677, 4096 iterations, the
 * server's default); `ALTER ROLE ... PASSWORD` accepts it as is.
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16)): string {
  const iterations = 4096;
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  const b64 = (b: Buffer) => b.toString('base64');
  return `SCRAM-SHA-256$${iterations}:${b64(salt)}$${b64(storedKey)}:${b64(serverKey)}`;
}

async function ignoreIfExists(client: pg.Client, sql: string): Promise<void> {
  try {
    await client.query(sql);
  } catch (error) {
    if (!ALREADY_EXISTS.has((error as { code?: string }).code ?? '')) throw error;
  }
}
