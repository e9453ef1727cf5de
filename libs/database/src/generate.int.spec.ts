import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateClients } from './generate.js';
import { type ScratchDatabase, createScratchDatabase } from './scratch-database.js';
import { adminUrl } from './test-support.js';
import { testbedSchema, workspaceRoot } from './workspace.js';

// Inside this package (so the client resolves @prisma/client from its node_modules), outside
// src/ (so tsc never builds it) and in a folder git ignores.
const dir = join(workspaceRoot(), 'libs', 'database', '.cache', 'generate-spec');
const schemaPath = join(dir, 'schema.prisma');

describe('generateClients', () => {
  let db: ScratchDatabase;
  beforeAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const testbed = await readFile(testbedSchema().schemaPath, 'utf8');
    await writeFile(schemaPath, testbed.replace(/output\s*=\s*"[^"]*"/, 'output = "./client"'));
    db = await createScratchDatabase({ adminUrl, prefix: 'generate_spec', ...testbedSchema() });
  });
  afterAll(async () => {
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('generates a client offline, then skips the schema until it changes', async () => {
    const first = await generateClients({ schemaPaths: [schemaPath] });
    const second = await generateClients({ schemaPaths: [schemaPath] });
    await writeFile(schemaPath, `${await readFile(schemaPath, 'utf8')}\n// changed\n`);
    const third = await generateClients({ schemaPaths: [schemaPath] });

    expect([first, second, third].map(([c]) => c?.generated)).toEqual([true, false, true]);
    expect(first[0]?.outputDir).toBe(join(dir, 'client'));
  });

  it('the generated client reads and writes the migrated tables through the pg adapter', async () => {
    const { PrismaClient } = await import(join(dir, 'client', 'client.ts'));
    const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }) });
    try {
      const id = crypto.randomUUID();
      await prisma.outbox.create({
        data: {
          id,
          aggregateType: 'order',
          aggregateId: 'o-1',
          type: 'OrderPlaced',
          payload: { orderId: 'o-1' },
          topic: 'order.events',
          schemaVersion: 1,
          correlationId: 'c-1',
        },
      });
      const unpublished = await prisma.outbox.findMany({ where: { publishedAt: null } });
      expect(unpublished).toMatchObject([{ id, seq: 1n, payload: { orderId: 'o-1' } }]);
    } finally {
      await prisma.$disconnect();
    }
  });
});
