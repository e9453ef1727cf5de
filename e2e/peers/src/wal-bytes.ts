import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type pg from 'pg';

/** Where the server's WAL is and which databases to count, found once per run. */
export interface WalSource {
  waldump: string;
  walDir: string;
}

/**
 * pg_waldump and the WAL directory of the server `admin` is connected to, when this process can
 * read them (same machine, a superuser connection); null otherwise.
 */
export async function walSource(admin: pg.Client): Promise<WalSource | null> {
  try {
    const {
      rows: [settings],
    } = await admin.query<{ dir: string; major: string }>(
      `SELECT current_setting('data_directory') AS dir, current_setting('server_version_num')::int / 10000 AS major`,
    );
    // Debian keeps the server's tools off PATH, beside the server of each major version.
    const waldump = join('/usr/lib/postgresql', String(settings!.major), 'bin', 'pg_waldump');
    const walDir = join(settings!.dir, 'pg_wal');
    await access(waldump);
    await access(walDir);
    return { waldump, walDir };
  } catch {
    return null;
  }
}

/**
 * Bytes of WAL written for `databaseOids` between two positions, read back with pg_waldump: every
 * record on a relation of those databases (full-page images included), and every other record of
 * a transaction that wrote one (its commit). The server is shared, so its WAL position alone
 * would count every other client's writes too. Read it soon after `to`: a checkpoint recycles
 * old segments.
 */
export async function walBytesOf(
  source: WalSource,
  databaseOids: number[],
  from: string,
  to: string,
): Promise<number> {
  const ours = new Set(databaseOids.map(String));
  const ourTransactions = new Set<string>();
  const waldump = spawn(source.waldump, ['-p', source.walDir, '-s', from, '-e', to], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  waldump.stderr.on('data', (chunk: Buffer) => void (errors += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => waldump.once('close', resolve));
  let bytes = 0;
  // rmgr: Heap len (rec/tot): 151/ 151, tx: 1398496, lsn: 6/85EE0928, prev …, desc: INSERT …, blkref #0: rel 1663/64282/64450 blk 4
  const record = /len \(rec\/tot\):\s*\d+\/\s*(\d+), tx:\s*(\d+),.*?(?:rel \d+\/(\d+)\/|$)/;
  for await (const line of createInterface({ input: waldump.stdout })) {
    const [, length, xid, database] = record.exec(line) ?? [];
    if (length === undefined) continue;
    if (database !== undefined && ours.has(database)) {
      bytes += Number(length);
      if (xid !== '0') ourTransactions.add(xid!);
    } else if (xid !== '0' && ourTransactions.has(xid!)) bytes += Number(length);
  }
  // pg_waldump exits 1 when it reaches the end of the WAL written so far ("invalid record
  // length"): the records up to `to` have been read by then.
  const code = await exited;
  if (code !== 0 && !/invalid record length|end of WAL/.test(errors))
    throw new Error(`pg_waldump exited ${code}: ${errors.slice(-500)}`);
  return bytes;
}
