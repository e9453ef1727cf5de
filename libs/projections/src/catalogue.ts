import pg from 'pg';
import { generationTable, sqlName, type AnyProjection, type ColumnType } from './projection.js';

/**
 * The runner's own tables (declared in the view database's Prisma schema, `prisma/order-view/`):
 * - `projection`: which generation of each projection readers see;
 * - `projection_generation`: every generation built, `building`, `live` or `retired`;
 * - `projection_checkpoint`: per generation and partition, the next offset to apply.
 * The generations' view tables are created here, from the projection's declaration: their number
 * and shape follow the code, not a migration.
 */

/** A generation's state: being built (not yet read), read by clients, or replaced. */
export type GenerationState = 'building' | 'live' | 'retired';

export interface Generation {
  name: string;
  generation: number;
  state: GenerationState;
  startedAt: Date;
  switchedAt: Date | null;
}

/** Where a generation stands on one partition: offsets below `next` are applied. */
export interface Checkpoint {
  topic: string;
  partition: number;
  next: bigint;
  lastMessageAt: Date | null;
}

const { escapeIdentifier: id } = pg;

const sqlType: Record<ColumnType, string> = {
  text: 'text',
  integer: 'integer',
  bigint: 'bigint',
  boolean: 'boolean',
  timestamptz: 'timestamptz(3)',
  'text[]': 'text[]',
};

/** Creates a generation's table and indexes (idempotent). */
export async function createGenerationTable(
  db: pg.Pool | pg.PoolClient,
  projection: AnyProjection,
  generation: number,
): Promise<string> {
  const table = generationTable(projection, generation);
  const columns = Object.entries(projection.columns).map(([name, c]) => `${id(name)} ${sqlType[c.type]}`);
  // `doc` is null only between the row's creation and the end of the transaction that creates it.
  await db.query(
    `CREATE TABLE IF NOT EXISTS ${id(table)} (key text PRIMARY KEY, doc jsonb, ${columns.join(', ')})`,
  );
  for (const [i, index] of (projection.indexes ?? []).entries()) {
    const parts = index.on.map((part) => {
      const [column, direction] = part.split(' ');
      return `${id(column!)}${direction ? ` ${direction}` : ''}`;
    });
    await db.query(
      `CREATE INDEX IF NOT EXISTS ${id(`${table}_i${i}`)} ON ${id(table)} ` +
        `${index.using === 'gin' ? 'USING gin ' : ''}(${parts.join(', ')})`,
    );
  }
  return table;
}

/** Every generation of a projection, newest first. */
export async function generations(db: pg.Pool, name: string): Promise<Generation[]> {
  const { rows } = await db.query<Generation>(
    `SELECT name, generation, state, started_at AS "startedAt", switched_at AS "switchedAt"
       FROM projection_generation WHERE name = $1 ORDER BY generation DESC`,
    [name],
  );
  return rows;
}

/** The generation readers see, if any. */
export async function liveGeneration(db: pg.Pool, name: string): Promise<number | null> {
  const { rows } = await db.query<{ g: number | null }>(
    'SELECT live_generation AS g FROM projection WHERE name = $1',
    [name],
  );
  return rows[0]?.g ?? null;
}

/** Starts a new generation (state `building`) with its table; returns its number. */
export async function createGeneration(db: pg.Pool, projection: AnyProjection): Promise<number> {
  const { rows } = await db.query<{ g: number }>(
    `INSERT INTO projection_generation (name, generation, state)
     SELECT $1, COALESCE(max(generation), 0) + 1, 'building' FROM projection_generation WHERE name = $1
     RETURNING generation AS g`,
    [projection.name],
  );
  const generation = rows[0]!.g;
  await createGenerationTable(db, projection, generation);
  return generation;
}

/** A generation's checkpoints, one per partition it has applied messages of. */
export async function checkpoints(db: pg.Pool | pg.PoolClient, name: string, generation: number): Promise<Checkpoint[]> {
  const { rows } = await db.query<{ topic: string; partition: number; next: string; lastMessageAt: Date | null }>(
    `SELECT topic, partition, next_offset AS next, last_message_at AS "lastMessageAt"
       FROM projection_checkpoint WHERE name = $1 AND generation = $2 ORDER BY topic, partition`,
    [name, generation],
  );
  return rows.map((r) => ({ ...r, next: BigInt(r.next) }));
}

/**
 * Sets a generation's positions (used by `replay --from`): offsets at or after `next` will be
 * applied again.
 */
export async function setCheckpoints(
  db: pg.Pool,
  name: string,
  generation: number,
  positions: ReadonlyArray<{ topic: string; partition: number; next: bigint }>,
): Promise<void> {
  for (const p of positions) {
    await db.query(
      `INSERT INTO projection_checkpoint (name, generation, topic, partition, next_offset)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (name, generation, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()`,
      [name, generation, p.topic, p.partition, p.next.toString()],
    );
  }
}

/**
 * Makes `generation` the one readers see, in one transaction: the catalogue and the SQL view named
 * after the projection (`order_summary`), which readers query, switch together. The previous live
 * generation is kept (retired) so a bad rebuild can be switched back.
 */
export async function switchLive(db: pg.Pool, projection: AnyProjection, generation: number): Promise<void> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO projection (name, live_generation) VALUES ($1, NULL) ON CONFLICT (name) DO NOTHING`,
      [projection.name],
    );
    await client.query('SELECT 1 FROM projection WHERE name = $1 FOR UPDATE', [projection.name]);
    await client.query(
      `UPDATE projection_generation SET state = 'retired' WHERE name = $1 AND state = 'live' AND generation <> $2`,
      [projection.name, generation],
    );
    await client.query(
      `UPDATE projection_generation SET state = 'live', switched_at = now() WHERE name = $1 AND generation = $2`,
      [projection.name, generation],
    );
    await client.query('UPDATE projection SET live_generation = $2, updated_at = now() WHERE name = $1', [
      projection.name,
      generation,
    ]);
    // DROP + CREATE rather than CREATE OR REPLACE: a new generation may have other columns. Both
    // are transactional; readers wait for the commit and then see the new generation.
    await client.query(`DROP VIEW IF EXISTS ${id(sqlName(projection))}`);
    await client.query(
      `CREATE VIEW ${id(sqlName(projection))} AS SELECT * FROM ${id(generationTable(projection, generation))}`,
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  // A table filled by a rebuild has no statistics yet; without them the planner may pick a
  // sequential scan for every list query.
  await db.query(`ANALYZE ${id(generationTable(projection, generation))}`);
}

/** Drops the tables of retired generations older than the one before the live one. */
export async function dropOldGenerations(db: pg.Pool, projection: AnyProjection): Promise<number[]> {
  const all = await generations(db, projection.name);
  const live = all.find((g) => g.state === 'live');
  if (!live) return [];
  const keep = new Set([live.generation, ...all.filter((g) => g.state === 'building').map((g) => g.generation)]);
  const previous = all.find((g) => g.state === 'retired' && g.generation < live.generation);
  if (previous) keep.add(previous.generation);
  const dropped: number[] = [];
  for (const g of all) {
    if (keep.has(g.generation)) continue;
    await db.query(`DROP TABLE IF EXISTS ${id(generationTable(projection, g.generation))}`);
    await db.query('DELETE FROM projection_checkpoint WHERE name = $1 AND generation = $2', [projection.name, g.generation]);
    await db.query('DELETE FROM projection_generation WHERE name = $1 AND generation = $2', [projection.name, g.generation]);
    dropped.push(g.generation);
  }
  return dropped;
}

/** Thrown when a second rebuild of the same projection starts while one runs. */
export class RebuildInProgressError extends Error {
  override readonly name = 'RebuildInProgressError';
}

/**
 * Holds the projection's rebuild lock for as long as the returned connection lives: a PostgreSQL
 * session advisory lock, released by the server when the process dies (SIGKILL included), so a
 * killed rebuild never leaves a stale lock behind.
 * @throws RebuildInProgressError when another session holds it.
 */
export async function acquireRebuildLock(
  db: pg.Pool,
  name: string,
): Promise<{ release: () => Promise<void> }> {
  const client = await db.connect();
  const key = `projection-rebuild:${name}`;
  const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [key]);
  if (!rows[0]?.ok) {
    const holder = await client.query<{ pid: number; since: Date | null; app: string }>(
      `SELECT a.pid, a.backend_start AS since, a.application_name AS app
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.objid = hashtext($1)::oid`,
      [key],
    ).catch(() => ({ rows: [] }));
    client.release();
    const who = holder.rows[0];
    throw new RebuildInProgressError(
      `a rebuild of ${name} is already running` +
        (who ? ` (database session ${who.pid}${who.app ? `, ${who.app}` : ''}, connected since ${who.since?.toISOString()})` : '') +
        ': wait for it to finish, or stop it; a stopped rebuild resumes where it was',
    );
  }
  return {
    release: async () => {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]).catch(() => undefined);
      client.release();
    },
  };
}
