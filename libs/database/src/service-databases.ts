import { migratorRole, provisionDatabase, type ProvisionedDatabase } from './database-roles.js';
import { assertPlainIdentifier } from './postgres.js';
import { type PrismaSchemaLocation, databaseName, serviceSchema } from './workspace.js';

/** A service database to prepare: its name (also its runtime role's) and the schema it is migrated with. */
export interface ServiceDatabase extends PrismaSchemaLocation {
  name: string;
}

/** Options of {@link prepareServiceDatabases}. */
export interface PrepareServiceDatabasesOptions {
  /** A superuser connection, e.g. `postgresql://postgres@127.0.0.1:5432/postgres`. */
  adminUrl: string;
  /** Service names (schema from `prisma/<name>/`) or explicit locations. */
  services: ReadonlyArray<string | ServiceDatabase>;
  /**
   * The password of each role, by role name: `<service>` and `<service>_migrator` (see
   * `ensurePasswords`, which keeps them in the machine's password file).
   */
  passwords: ReadonlyMap<string, string>;
}

/**
 * The roles {@link prepareServiceDatabases} gives a service: `<service>` (runtime) and
 * `<service>_migrator`, both for the database `<service>`.
 */
export function serviceRoles(service: string): { database: string; role: string }[] {
  // PostgreSQL identifiers here are plain: `order-view` is the database and role `order_view`.
  const name = databaseName(service);
  return [
    { database: name, role: name },
    { database: name, role: migratorRole(name) },
  ];
}

/**
 * Gives each service its own database, named after the service, with two roles: the migrator
 * (`<service>_migrator`) owns the database and its schema and runs the migrations; the runtime
 * role (`<service>`), which the service connects as, only reads and writes rows. See
 * `provisionDatabase` for exactly what each may do. Safe to run again.
 *
 * @returns each service's URLs with passwords: `url` as the runtime role, `migratorUrl` as the
 * migrator. Print them only through `withoutPassword`.
 */
export async function prepareServiceDatabases(
  options: PrepareServiceDatabasesOptions,
): Promise<Record<string, ProvisionedDatabase>> {
  const services = options.services.map((s) =>
    typeof s === 'string' ? { name: databaseName(s), ...serviceSchema(s) } : s,
  );
  for (const { name } of services) assertPlainIdentifier('service name', name);
  const password = (role: string) => {
    const value = options.passwords.get(role);
    if (!value) throw new Error(`no password for role "${role}"`);
    return value;
  };

  const databases: Record<string, ProvisionedDatabase> = {};
  for (const service of services) {
    databases[service.name] = await provisionDatabase({
      adminUrl: options.adminUrl,
      database: service.name,
      migrator: { name: migratorRole(service.name), password: password(migratorRole(service.name)) },
      runtime: { name: service.name, password: password(service.name) },
      schemaPath: service.schemaPath,
      migrationsDir: service.migrationsDir,
    });
  }
  return databases;
}
