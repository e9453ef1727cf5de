import pg from 'pg';
import { generationTable, type AnyProjection, type ProjectedMessage } from './projection.js';

const { escapeIdentifier: id } = pg;

/** A consumed record: its position, and the decoded message unless the projection ignores it. */
export interface BatchRecord {
  offset: string;
  /** null: not a message this projection reads (another type, or undecodable). */
  message: ProjectedMessage | null;
}

/** What one {@link applyBatch} did. */
export interface AppliedBatch {
  /** Records at or past the checkpoint, now applied (read or skipped as not ours). */
  applied: number;
  /** Records below the checkpoint: already applied, changed nothing. */
  skipped: number;
  /** Views written. */
  views: number;
  /** The partition's checkpoint after the batch. */
  next: bigint;
}

// Deadlocks: two partitions' batches may lock the same views in a different order when another
// runner instance serves the other partition; PostgreSQL aborts one, which is simply retried.
const RETRYABLE = new Set(['40P01', '40001']);

/**
 * Applies records of ONE partition, in offset order, to a generation of a projection: the views'
 * new state and the partition's checkpoint commit in one transaction. Records below the stored
 * checkpoint are skipped, so a redelivered or replayed range changes nothing; the checkpoint row
 * is locked first, so two runners handed the same partition (a rebalance) cannot both apply it.
 */
export async function applyBatch(
  pool: pg.Pool,
  projection: AnyProjection,
  generation: number,
  topic: string,
  partition: number,
  records: readonly BatchRecord[],
  lastMessageAt: Date | null,
): Promise<AppliedBatch> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await applyOnce(pool, projection, generation, topic, partition, records, lastMessageAt);
    } catch (error) {
      if (attempt >= 5 || !RETRYABLE.has((error as { code?: string }).code ?? '')) throw error;
    }
  }
}

async function applyOnce(
  pool: pg.Pool,
  projection: AnyProjection,
  generation: number,
  topic: string,
  partition: number,
  records: readonly BatchRecord[],
  lastMessageAt: Date | null,
): Promise<AppliedBatch> {
  const table = id(generationTable(projection, generation));
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO projection_checkpoint (name, generation, topic, partition, next_offset)
       VALUES ($1, $2, $3, $4, 0) ON CONFLICT DO NOTHING`,
      [projection.name, generation, topic, partition],
    );
    const { rows } = await client.query<{ next: string }>(
      `SELECT next_offset AS next FROM projection_checkpoint
        WHERE name = $1 AND generation = $2 AND topic = $3 AND partition = $4 FOR UPDATE`,
      [projection.name, generation, topic, partition],
    );
    const checkpoint = BigInt(rows[0]!.next);
    const fresh = records.filter((r) => BigInt(r.offset) >= checkpoint);
    const skipped = records.length - fresh.length;
    if (fresh.length === 0) {
      await client.query('COMMIT');
      return { applied: 0, skipped, views: 0, next: checkpoint };
    }

    const byKey = new Map<string, ProjectedMessage[]>();
    for (const { message } of fresh) {
      if (!message) continue;
      const key = projection.key(message);
      const list = byKey.get(key);
      if (list) list.push(message);
      else byKey.set(key, [message]);
    }

    let views = 0;
    if (byKey.size > 0) {
      // Sorted: every transaction locks views in the same order, which keeps deadlocks rare.
      const keys = [...byKey.keys()].sort();
      await client.query(
        `INSERT INTO ${table} (key) SELECT k FROM unnest($1::text[]) AS k ORDER BY k ON CONFLICT (key) DO NOTHING`,
        [keys],
      );
      const current = await client.query<{ key: string; doc: unknown }>(
        `SELECT key, doc FROM ${table} WHERE key = ANY($1::text[]) ORDER BY key FOR UPDATE`,
        [keys],
      );
      const docs = new Map(current.rows.map((r) => [r.key, r.doc]));
      const columns = Object.entries(projection.columns);
      const out: Record<string, unknown>[] = [];
      for (const key of keys) {
        let view = docs.get(key) ?? null;
        for (const message of byKey.get(key)!) view = projection.evolve(view, message);
        const row: Record<string, unknown> = { key, doc: view };
        for (const [name, column] of columns) row[name] = column.value(view);
        out.push(row);
      }
      const recordType = [
        'key text',
        'doc jsonb',
        ...columns.map(([name, c]) => `${id(name)} ${c.type === 'timestamptz' ? 'timestamptz' : c.type}`),
      ].join(', ');
      const set = ['doc = r.doc', ...columns.map(([name]) => `${id(name)} = r.${id(name)}`)].join(', ');
      await client.query(
        `UPDATE ${table} AS t SET ${set} FROM jsonb_to_recordset($1::jsonb) AS r(${recordType}) WHERE t.key = r.key`,
        [JSON.stringify(out)],
      );
      views = out.length;
    }

    const next = BigInt(fresh[fresh.length - 1]!.offset) + 1n;
    await client.query(
      `UPDATE projection_checkpoint SET next_offset = $5, last_message_at = COALESCE($6, last_message_at), updated_at = now()
        WHERE name = $1 AND generation = $2 AND topic = $3 AND partition = $4`,
      [projection.name, generation, topic, partition, next.toString(), lastMessageAt],
    );
    await client.query('COMMIT');
    return { applied: fresh.length, skipped, views, next };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}
