import { readFile } from 'node:fs/promises';
import { PrismaPg } from '@prisma/adapter-pg';
import { DriverAdapterError, bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaEngine, SchemaFilter } from '@prisma/schema-engine-wasm';
import pg from 'pg';
import { PostgresUnreachableError } from './postgres.js';

/** Receives the schema engine's log lines (JSON strings). */
export type EngineLog = (line: string) => void;

export const NO_FILTERS: SchemaFilter = { externalTables: [], externalEnums: [] };

/**
 * Runs `fn` with Prisma's schema engine compiled to WebAssembly, connected to `databaseUrl`
 * through the pg driver adapter. The native engine the Prisma CLI wants is a download this
 * project cannot rely on; the wasm build ships on npm and behaves the same for migrations.
 * The engine connects when it starts, so even a pure schema-to-schema diff needs a reachable
 * server.
 */
export async function withSchemaEngine<T>(
  options: { databaseUrl: string; schemaPath: string; log?: EngineLog },
  fn: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  // Loaded on first use: importing the .wasm prints an ExperimentalWarning on Node 24, which
  // code that only wants URLs or clients from this lib should not see.
  const { SchemaEngine } = await import('@prisma/schema-engine-wasm');
  const schema = await readFile(options.schemaPath, 'utf8');
  // Our own pool, so it is closed here rather than left to keep the process alive.
  const pool = new pg.Pool({ connectionString: options.databaseUrl });
  const adapter = bindMigrationAwareSqlAdapterFactory(new WholeScriptPg(pool));
  let engine: SchemaEngine | undefined;
  try {
    engine = await SchemaEngine.new(
      { datamodels: [[options.schemaPath, schema]] },
      options.log ?? (() => {}),
      adapter,
    );
    return await fn(engine);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith("Can't reach database server")) {
      throw new PostgresUnreachableError(options.databaseUrl, { cause: error });
    }
    throw error;
  } finally {
    engine?.free();
    await pool.end();
  }
}

/**
 * PrismaPg runs a script by splitting it on every `;`, which cuts a function body (`$$ ... ; ...
 * $$`) or a string literal apart. The native engine sends a migration whole, and so does this:
 * PostgreSQL's simple query protocol runs a multi-statement string as one implicit transaction, so
 * a failing migration also leaves nothing half-applied.
 */
class WholeScriptPg extends PrismaPg {
  override async connect(): ReturnType<PrismaPg['connect']> {
    const adapter = await super.connect();
    adapter.executeScript = async (script) => {
      try {
        await adapter.underlyingDriver().query(script);
      } catch (error) {
        if (!(error instanceof pg.DatabaseError)) throw error;
        // The shape PrismaPg gives its own errors, so the engine reports the server's message.
        throw new DriverAdapterError({
          kind: 'postgres',
          code: error.code ?? 'unknown',
          severity: error.severity ?? 'ERROR',
          message: error.message,
          detail: error.detail,
          column: error.column,
          hint: error.hint,
        });
      }
    };
    return adapter;
  }
}
