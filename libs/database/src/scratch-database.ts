import { randomBytes } from 'node:crypto';
import { migratorRole, provisionDatabase } from './database-roles.js';
import { randomPassword } from './passfile.js';
import { assertPlainIdentifier, escapeIdentifier, withClient } from './postgres.js';

/** Options of {@link createScratchDatabase}. */
export interface ScratchDatabaseOptions {
  /** A connection allowed to create roles and databases. */
  adminUrl: string;
  /** Start of the database's name, e.g. `outbox_test`; a random suffix follows. */
  prefix: string;
  /** The schema whose migrations the database gets. */
  schemaPath: string;
  migrationsDir: string;
}

/** A database made for one test run, with the same two roles as a service's database. */
export interface ScratchDatabase {
  /**
   * Connection URL as the runtime role (named like the database): what a service under test
   * connects with, and what tests read and write rows with. It cannot change the schema.
   */
  url: string;
  /** Connection URL as the migrator (`<name>_migrator`), which owns the schema: for DDL in tests. */
  migratorUrl: string;
  /** The database's name: `<prefix>_<random>`. */
  name: string;
  /** Drops the database, closing any connection still open on it, and its two roles. */
  drop(): Promise<void>;
}

/**
 * Creates a database with a name no earlier run has used and applies the schema's migrations, so
 * a test starts from empty tables however its previous run ended. It is provisioned like a
 * service's database (`provisionDatabase`): tests run services as the runtime role, so a
 * missing grant fails a test rather than a deployment.
 */
export async function createScratchDatabase(options: ScratchDatabaseOptions): Promise<ScratchDatabase> {
  const name = `${options.prefix}_${randomBytes(6).toString('hex')}`;
  assertPlainIdentifier('scratch database name', name);
  assertPlainIdentifier('scratch migrator role (prefix too long?)', migratorRole(name));
  const drop = () =>
    withClient(options.adminUrl, async (admin) => {
      // FORCE: a pool the test forgot to close must not keep the database alive.
      await admin.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`);
      for (const role of [name, migratorRole(name)])
        await admin.query(`DROP ROLE IF EXISTS ${escapeIdentifier(role)}`);
    });
  try {
    const { url, migratorUrl } = await provisionDatabase({
      adminUrl: options.adminUrl,
      database: name,
      migrator: { name: migratorRole(name), password: randomPassword() },
      runtime: { name, password: randomPassword() },
      schemaPath: options.schemaPath,
      migrationsDir: options.migrationsDir,
    });
    return { url, migratorUrl, name, drop };
  } catch (error) {
    await drop();
    throw error;
  }
}
