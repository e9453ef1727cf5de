import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { allSchemas } from './workspace.js';

const run = promisify(execFile);

/** Written into the client's output folder after a successful generate. */
export const GENERATE_STAMP = '.schema-hash';

/** Options of {@link generateClients}. */
export interface GenerateClientsOptions {
  /** Schemas to generate; defaults to every schema in the workspace. */
  schemaPaths?: string[];
  /** Generate even when the stamp says the client is up to date. */
  force?: boolean;
}

/** What {@link generateClients} did for one schema. */
export interface GeneratedClient {
  schemaPath: string;
  /** The generator's output folder, read from the schema. */
  outputDir: string;
  /** `false` when the client was already generated from this exact schema and Prisma version. */
  generated: boolean;
}

/**
 * Runs `prisma generate` for each schema, offline, skipping a schema whose client was generated
 * from the same schema text by the same Prisma version (a hash stamp in the output folder), so
 * running it before every build costs nothing when nothing changed.
 */
export async function generateClients(options: GenerateClientsOptions = {}): Promise<GeneratedClient[]> {
  const schemaPaths = options.schemaPaths ?? allSchemas().map((s) => s.schemaPath);
  const cli = prismaCli();
  const results: GeneratedClient[] = [];
  // One at a time: each generate is a Node process that wants a whole core.
  for (const schemaPath of schemaPaths) {
    const schema = await readFile(schemaPath, 'utf8');
    const outputDir = generatorOutput(schemaPath, schema);
    const stamp = join(outputDir, GENERATE_STAMP);
    const hash = createHash('sha256').update(cli.version).update('\0').update(schema).digest('hex');
    if (!options.force && existsSync(stamp) && (await readFile(stamp, 'utf8')) === hash) {
      results.push({ schemaPath, outputDir, generated: false });
      continue;
    }
    await run(process.execPath, [cli.entry, 'generate', '--schema', schemaPath], {
      env: { ...process.env, ...(await offlineEnv()) },
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(
        `prisma generate --schema ${schemaPath} failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`,
        {
          cause: error,
        },
      );
    });
    await writeFile(stamp, hash);
    results.push({ schemaPath, outputDir, generated: true });
  }
  return results;
}

/** The `output` of the schema's generator block, resolved against the schema's folder. */
export function generatorOutput(schemaPath: string, schema: string): string {
  const output = /generator\s+\w+\s*\{[^}]*?\boutput\s*=\s*"([^"]+)"/.exec(schema)?.[1];
  if (!output) throw new Error(`${schemaPath}: the generator block has no output`);
  return resolve(dirname(schemaPath), output);
}

function prismaCli(): { entry: string; version: string } {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('prisma/package.json');
  const pkg = require(pkgPath) as { version: string; bin: { prisma: string } };
  return { entry: join(dirname(pkgPath), pkg.bin.prisma), version: pkg.version };
}

// `prisma generate` never runs the schema engine, but the CLI downloads the native one first
// unless this variable names an existing file; the download host is not reachable from here.
// Never export it to `prisma migrate`: with a dummy engine that exits 0 having done nothing.
async function offlineEnv(): Promise<NodeJS.ProcessEnv> {
  let engine = process.env.PRISMA_SCHEMA_ENGINE_BINARY;
  if (!engine) {
    const dir = join(tmpdir(), 'order-saga');
    engine = join(dir, 'no-schema-engine');
    await mkdir(dir, { recursive: true });
    if (!existsSync(engine)) await writeFile(engine, '');
  }
  return { PRISMA_SCHEMA_ENGINE_BINARY: engine, CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1' };
}
