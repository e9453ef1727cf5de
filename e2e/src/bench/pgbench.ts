import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

// What the inbox transport does per message, with no Node.js in the way: the inbox record (a
// duplicate would change nothing) and the handler's effect row, in one transaction. The same
// random value names the message in both rows, like a message id does.
const INBOX_AND_EFFECT = String.raw`\set r random(1, 9000000000000000000)
BEGIN;
INSERT INTO inbox (consumer, message_id, topic, partition, "offset")
  VALUES ('pgbench', md5(:r::text)::uuid, 'pgbench', 0, :r::bigint) ON CONFLICT DO NOTHING;
INSERT INTO effect (consumer, message_id, aggregate_id, seq)
  VALUES ('pgbench', md5(:r::text)::uuid, 'agg-' || (:r::bigint % 1000), 1);
END;
`;

/** Transactions per second of the inbox + effect SQL, run by pgbench (`-c 3 -j 2 -M prepared`). */
export async function pgbenchInboxTps(databaseUrl: string, seconds: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-pgbench-'));
  try {
    const script = join(dir, 'inbox-effect.sql');
    await writeFile(script, INBOX_AND_EFFECT);
    // -n: no vacuum, the test-bed schema has no pgbench_* tables.
    const options = ['-n', '-M', 'prepared', '-c', '3', '-j', '2', '-T', String(seconds)];
    const { stdout } = await promisify(execFile)('pgbench', [...options, '-f', script, databaseUrl]);
    const tps = /tps = ([\d.]+)/.exec(stdout);
    if (!tps) throw new Error(`no tps in pgbench output:\n${stdout}`);
    return Number(tps[1]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
