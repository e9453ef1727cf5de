#!/usr/bin/env node
import { relative, resolve } from 'node:path';
import { Command } from 'commander';
import { generateClients } from './generate.js';
import { createMigration } from './migrations.js';
import { defaultPassfile, ensurePasswords } from './passfile.js';
import {
  DEFAULT_ADMIN_URL,
  PostgresUnreachableError,
  assertPostgresReachable,
  withoutPassword,
} from './postgres.js';
import { prepareServiceDatabases, serviceRoles } from './service-databases.js';
import {
  READ_SIDE_SERVICES,
  SERVICES,
  databaseName,
  serviceSchema,
  testbedSchema,
  workspaceRoot,
} from './workspace.js';

// The wasm schema engine loads through Node's experimental WebAssembly module support, and Node
// warns about it on every run; nothing a user of this CLI can act on. Other warnings still print.
const [printWarning] = process.listeners('warning');
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'ExperimentalWarning' && warning.message.includes('WebAssembly')) return;
  printWarning?.(warning);
});

const adminUrl = process.env.DATABASE_ADMIN_URL ?? DEFAULT_ADMIN_URL;
const shown = (path: string) => relative(workspaceRoot(), path);

const program = new Command('database')
  .description(
    'Prisma clients, migrations and per-service databases of order-saga, without the native Prisma engines',
  )
  .showHelpAfterError();

program
  .command('generate')
  .description('prisma generate for every schema whose client is missing or older than the schema')
  .option('-f, --force', 'generate even when the schema is unchanged')
  .action(async (opts: { force?: boolean }) => {
    for (const client of await generateClients({ force: opts.force ?? false })) {
      console.log(
        `${client.generated ? 'generated' : 'unchanged'}  ${shown(client.schemaPath)} -> ${shown(client.outputDir)}`,
      );
    }
  });

program
  .command('prepare')
  .description(
    `a database per service (${SERVICES.join(', ')}) with a migrator and a runtime role, migrated; ` +
      'reads DATABASE_ADMIN_URL and DATABASE_PASSFILE (default .run/pgpass, created with random ' +
      'passwords; <SERVICE>_DB_PASSWORD and <SERVICE>_MIGRATOR_PASSWORD override them). Prints ' +
      "each service's runtime URL without its password: services read it from PGPASSFILE",
  )
  .action(async () => {
    await assertPostgresReachable(adminUrl);
    const passfile = resolve(process.env.DATABASE_PASSFILE || defaultPassfile());
    const passwords = await ensurePasswords(passfile, SERVICES.flatMap(serviceRoles));
    const databases = await prepareServiceDatabases({ adminUrl, services: SERVICES, passwords });
    const readSide = new Set(READ_SIDE_SERVICES.map(databaseName));
    for (const [service, { url, migratorUrl }] of Object.entries(databases)) {
      // A read side creates a table per projection generation while it runs (blue/green
      // rebuilds), so it connects as its database's migrator; every other service gets DML only.
      console.log(`${service.padEnd(10)} ${withoutPassword(readSide.has(service) ? migratorUrl : url)}`);
    }
    console.log(`passwords in ${shown(passfile)} (mode 0600): set PGPASSFILE to it`);
  });

program
  .command('diff')
  .description('write a new migration from the schema as of the last migration to the current schema')
  .argument('<service>', `${SERVICES.join(' | ')} | testbed`)
  .argument('<name>', 'migration name, e.g. add_orders')
  .action(async (service: string, name: string) => {
    if (service !== 'testbed' && !(SERVICES as readonly string[]).includes(service)) {
      program.error(`unknown service "${service}": expected one of ${SERVICES.join(', ')}, testbed`);
    }
    const location = service === 'testbed' ? testbedSchema() : serviceSchema(service);
    await assertPostgresReachable(adminUrl);
    const migration = await createMigration({ ...location, name, databaseUrl: adminUrl });
    if (!migration) console.log(`${shown(location.schemaPath)} has not changed since its last migration`);
    else console.log(`wrote ${shown(migration.directory)}\n\n${migration.sql}`);
  });

try {
  await program.parseAsync();
} catch (error) {
  // The unreachable server is an expected situation with a known fix: say it in one line.
  if (error instanceof PostgresUnreachableError) console.error(error.message);
  else console.error(error);
  process.exitCode = 1;
}
// The wasm schema engine leaves a timer behind that would hold the process open for 10 s more.
process.exit();
