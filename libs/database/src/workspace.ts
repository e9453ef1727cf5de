import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The services that own a database, each with `prisma/<service>/schema.prisma`. */
export const SERVICES = ['order', 'payment', 'inventory', 'shipping', 'order-view'] as const;

/**
 * The PostgreSQL database and role of a service: its name with `-` as `_` (`order-view` →
 * `order_view`), since identifiers are kept to plain lower-case letters, digits and `_`.
 */
export function databaseName(service: string): string {
  return service.replace(/-/g, '_');
}

/** Services that only read messages into projections: no outbox, no inbox in their schema. */
export const READ_SIDE_SERVICES: readonly ServiceName[] = ['order-view'];

/** Name of one of {@link SERVICES}. */
export type ServiceName = (typeof SERVICES)[number];

/** Where a schema and its `migrations/` folder live. */
export interface PrismaSchemaLocation {
  /** Absolute path of the `schema.prisma` file. */
  schemaPath: string;
  /** Absolute path of the `migrations/` folder beside it. */
  migrationsDir: string;
}

let root: string | undefined;

/**
 * The workspace's root folder, found by walking up from this file to `pnpm-workspace.yaml`, so the
 * same answer comes from `src/` under vitest and from `dist/` under node.
 */
export function workspaceRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no pnpm-workspace.yaml above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  root = dir;
  return dir;
}

/** Schema and migrations of a service: `prisma/<service>/`. */
export function serviceSchema(service: string): PrismaSchemaLocation {
  const dir = join(workspaceRoot(), 'prisma', service);
  return { schemaPath: join(dir, 'schema.prisma'), migrationsDir: join(dir, 'migrations') };
}

/** Schema and migrations of the messaging test bed: `e2e/prisma/`. */
export function testbedSchema(): PrismaSchemaLocation {
  const dir = join(workspaceRoot(), 'e2e', 'prisma');
  return { schemaPath: join(dir, 'schema.prisma'), migrationsDir: join(dir, 'migrations') };
}

/** Every schema in the workspace: the four services' and the test bed's. */
export function allSchemas(): PrismaSchemaLocation[] {
  return [...SERVICES.map(serviceSchema), testbedSchema()];
}
