import { randomBytes } from 'node:crypto';
import { applyMigrations } from './migrations.js';
import { assertPlainIdentifier, escapeIdentifier, withClient, withDatabase } from './postgres.js';

/** Options of {@link createScratchDatabase}. */
export interface ScratchDatabaseOptions {
  /** A connection allowed to create databases. */
  adminUrl: string;
  /** Start of the database's name, e.g. `outbox_test`; a random suffix follows. */
  prefix: string;
  /** The schema whose migrations the database gets. */
  schemaPath: string;
  migrationsDir: string;
}

/** A database made for one test run. */
export interface ScratchDatabase {
  /** Connection URL, with the admin URL's user. */
  url: string;
  /** The database's name: `<prefix>_<random>`. */
  name: string;
  /** Drops the database, closing any connection still open on it. */
  drop(): Promise<void>;
}

/**
 * Creates a database with a name no earlier run has used and applies the schema's migrations, so
 * a test starts from empty tables however its previous run ended.
 */
export async function createScratchDatabase(options: ScratchDatabaseOptions): Promise<ScratchDatabase> {
  const name = `${options.prefix}_${randomBytes(6).toString('hex')}`;
  assertPlainIdentifier('scratch database name', name);
  await withClient(options.adminUrl, (admin) => admin.query(`CREATE DATABASE ${escapeIdentifier(name)}`));
  const url = withDatabase(options.adminUrl, name);
  const drop = () =>
    withClient(options.adminUrl, async (admin) => {
      // FORCE: a pool the test forgot to close must not keep the database alive.
      await admin.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`);
    });
  try {
    await applyMigrations({
      databaseUrl: url,
      schemaPath: options.schemaPath,
      migrationsDir: options.migrationsDir,
    });
  } catch (error) {
    await drop();
    throw error;
  }
  return { url, name, drop };
}
