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
  DEFAULT_ADMIN_URL,
  PostgresUnreachableError,
  assertPostgresReachable,
  withDatabase,
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
