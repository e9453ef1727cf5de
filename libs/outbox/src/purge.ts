/** Runs one SQL statement and returns the number of rows it affected. */
export type ExecuteSql = (sql: string, params: unknown[]) => Promise<number>;

/** Which rows {@link purgeInBatches} deletes, and how many per statement. */
export interface PurgeSpec {
  /** Table name (trusted: comes from code, never from input). */
  table: string;
  /** A column that identifies a row, e.g. the primary key; `ctid` works for any table. */
  key: string;
  /** SQL condition selecting the expired rows (trusted, no parameters). */
  where: string;
  /** Rows per DELETE statement: bounds each statement's locks, WAL burst and run time. */
  batchSize: number;
  /** Most statements per call, so one call never runs unbounded. Default 1,000. */
  maxBatches?: number;
  /** Stops between statements once aborted. */
  signal?: AbortSignal;
}

/**
 * Deletes the rows matching `where` in statements of at most `batchSize` rows, each its own
 * transaction, until a statement deletes fewer than a full batch. A backlog of millions is then
 * many short deletes interleaved with the service's own queries, never one long one. Rows
 * another purger is deleting at the same moment are skipped (`SKIP LOCKED`), so every replica
 * may run the same purge.
 * @returns the number of rows deleted.
 */
export async function purgeInBatches(execute: ExecuteSql, spec: PurgeSpec): Promise<number> {
  const sql = `DELETE FROM ${spec.table} WHERE ${spec.key} = ANY(ARRAY(
      SELECT ${spec.key} FROM ${spec.table} WHERE ${spec.where} LIMIT $1 FOR UPDATE SKIP LOCKED))`;
  let total = 0;
  for (let batch = 0; batch < (spec.maxBatches ?? 1000) && !spec.signal?.aborted; batch++) {
    const deleted = await execute(sql, [spec.batchSize]);
    total += deleted;
    if (deleted < spec.batchSize) break;
  }
  return total;
}
