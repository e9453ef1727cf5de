export {
  type GenerateClientsOptions,
  type GeneratedClient,
  GENERATE_STAMP,
  generateClients,
} from './generate.js';
export {
  type ApplyMigrationsOptions,
  type CreatedMigration,
  type CreateMigrationOptions,
  MIGRATION_FILE,
  SCHEMA_SNAPSHOT,
  applyMigrations,
  createMigration,
  readMigrations,
} from './migrations.js';
export {
  type ProvisionDatabaseOptions,
  type ProvisionedDatabase,
  type RoleCredentials,
  migratorRole,
  provisionDatabase,
} from './database-roles.js';
export {
  type RolePassword,
  defaultPassfile,
  ensurePasswords,
  passwordVariable,
  randomPassword,
} from './passfile.js';
export {
  DEFAULT_ADMIN_URL,
  PostgresUnreachableError,
  assertPostgresReachable,
  withDatabase,
  withoutPassword,
} from './postgres.js';
export {
  type ScratchDatabase,
  type ScratchDatabaseOptions,
  createScratchDatabase,
} from './scratch-database.js';
export type { EngineLog } from './schema-engine.js';
export {
  type PrepareServiceDatabasesOptions,
  type ServiceDatabase,
  prepareServiceDatabases,
  serviceRoles,
} from './service-databases.js';
export {
  type PrismaSchemaLocation,
  type ServiceName,
  READ_SIDE_SERVICES,
  SERVICES,
  allSchemas,
  databaseName,
  serviceSchema,
  testbedSchema,
  workspaceRoot,
} from './workspace.js';
