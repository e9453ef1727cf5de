import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type pg from 'pg';

/** Where the server's WAL is and which databases to count, found once per run. */
export interface WalSource {
  waldump: string;
  walDir: string;
  segmentBytes: number;
}

/**
 * pg_waldump and the WAL directory of the server `admin` is connected to, when this process can
 * read them (same machine, a superuser connection); null otherwise.
 */
export async function walSource(admin: pg.Client): Promise<WalSource | null> {
  try {
    const {
      rows: [settings],
    } = await admin.query<{ dir: string; major: string; segment: string }>(
      `SELECT current_setting('data_directory') AS dir, current_setting('server_version_num')::int / 10000 AS major,
              (SELECT setting FROM pg_settings WHERE name = 'wal_segment_size') AS segment`,
    );
    // Debian keeps the server's tools off PATH, beside the server of each major version.
    const waldump = join('/usr/lib/postgresql', String(settings!.major), 'bin', 'pg_waldump');
    const walDir = join(settings!.dir, 'pg_wal');
    await access(waldump);
    await access(walDir);
    return { waldump, walDir, segmentBytes: Number(settings!.segment) };
  } catch {
    return null;
  }
}

const lsnNumber = (lsn: string): number => {
  const [high, low] = lsn.split('/') as [string, string];
  return parseInt(high, 16) * 2 ** 32 + parseInt(low, 16);
};

/** Counts the WAL written for some databases from a position on, until asked for the total. */
export interface WalCount {
  /** Bytes of the records before `to` (the position at the window's end); stops reading. */
  until(to: string): Promise<number>;
  /** Stops reading without a total (the window failed). */
  cancel(): void;
}

// `--follow` never ends by itself: whatever way this process ends, its readers end with it.
const readers = new Set<ReturnType<typeof spawn>>();
process.once('exit', () => {
  for (const reader of readers) reader.kill();
});

/**
 * Bytes of WAL written for `databaseOids` from `from` on, read with `pg_waldump --follow` while it
 * is written: every record on a relation of those databases (full-page images included), and
 * every other record of a transaction that wrote one (its commit). The server is shared, so its
 * WAL position alone would count every other client's writes too. Read as it is written because
 * a checkpoint (any DROP DATABASE on the server asks for one) recycles the segments behind it.
 */
export function countWal(source: WalSource, databaseOids: number[], from: string): WalCount {
  const ours = new Set(databaseOids.map(String));
  const ourTransactions = new Set<string>();
  // pg_waldump cannot start where no record has been written yet: it reads from the start of
  // the current segment (never recycled: the server writes there) and skips what precedes `from`.
  const start = lsnNumber(from);
  const segmentStart = start - (start % source.segmentBytes);
  const startLsn = `${Math.floor(segmentStart / 2 ** 32).toString(16)}/${(segmentStart % 2 ** 32).toString(16)}`;
  const waldump = spawn(source.waldump, ['--follow', '-p', source.walDir, '-s', startLsn], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  waldump.stderr.on('data', (chunk: Buffer) => void (errors += chunk.toString()));
  readers.add(waldump);
  const exited = new Promise<void>((resolve) => waldump.once('close', () => resolve()));
  void exited.then(() => readers.delete(waldump));
  /** Our records, as [position, bytes]: the window's end is known only when it comes. */
  const counted: [number, number][] = [];
  let reached = 0;
  // rmgr: Heap len (rec/tot): 151/ 151, tx: 1398496, lsn: 6/85EE0928, prev …, desc: INSERT …, blkref #0: rel 1663/64282/64450 blk 4
  const record =
    /len \(rec\/tot\):\s*\d+\/\s*(\d+), tx:\s*(\d+), lsn: ([0-9A-F]+\/[0-9A-F]+),.*?(?:rel \d+\/(\d+)\/|$)/;
  createInterface({ input: waldump.stdout }).on('line', (line) => {
    const [, length, xid, lsn, database] = record.exec(line) ?? [];
    if (length === undefined) return;
    reached = lsnNumber(lsn!);
    if (reached < start) return;
    if (database !== undefined && ours.has(database)) {
      counted.push([reached, Number(length)]);
      if (xid !== '0') ourTransactions.add(xid!);
    } else if (xid !== '0' && ourTransactions.has(xid!)) counted.push([reached, Number(length)]);
  });
  return {
    async until(to) {
      const end = lsnNumber(to);
      // pg_waldump polls for new WAL once a second; past the end, or idle that long, it has read it all.
      let [last, idleSince] = [reached, Date.now()];
      while (reached < end && waldump.exitCode === null && Date.now() - idleSince < 3_000) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        if (reached !== last) [last, idleSince] = [reached, Date.now()];
      }
      waldump.kill();
      await exited;
      if (reached === 0) throw new Error(`pg_waldump read nothing: ${errors.slice(-500)}`);
      return counted.filter(([at]) => at < end).reduce((sum, [, bytes]) => sum + bytes, 0);
    },
    cancel: () => void waldump.kill(),
  };
}
