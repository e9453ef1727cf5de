#!/usr/bin/env node
import { Command, Option } from 'commander';
import Table from 'cli-table3';
import pg from 'pg';

interface ParkedRow {
  id: string;
  seq: string;
  aggregateType: string;
  aggregateId: string;
  type: string;
  topic: string;
  bytes: number;
  parkedAt: Date;
  reason: string;
  /** Later unpublished rows of the same aggregate, held back until this one is resolved. */
  waiting: number;
}

const program = new Command('outbox')
  .description(
    "Rows the outbox relay parked because the broker can never accept them. A parked row holds back the later rows of its aggregate (one aggregate's messages are never reordered); resolve it with unpark (send again, e.g. after raising the broker's limit) or discard (never send it).",
  )
  .addOption(
    new Option('--database-url <url>', "the service's database").env('DATABASE_URL').makeOptionMandatory(),
  )
  .addHelpText(
    'after',
    `
Examples:
  DATABASE_URL=postgresql://order@127.0.0.1:5432/order pnpm outbox parked
  pnpm outbox unpark 0193c6a1-7d5e-7cc2-9f3a-2b1d4e5f6a7b --json
  pnpm outbox discard 0193c6a1-7d5e-7cc2-9f3a-2b1d4e5f6a7b --reason "payload replaced by ticket OPS-12"`,
  );

async function withDatabase<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: program.opts<{ databaseUrl: string }>().databaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

program
  .command('parked')
  .description('list parked rows, oldest first')
  .option('--json', 'print JSON lines instead of a table')
  .action(async (options: { json?: boolean }) => {
    const rows = await withDatabase(async (client) => {
      const result = await client.query<ParkedRow>(
        `SELECT o.id, o.seq::text AS seq, o.aggregatetype AS "aggregateType", o.aggregateid AS "aggregateId", o.type,
                o.topic, octet_length(o.payload::text) AS bytes, o.parked_at AS "parkedAt", o.parked_reason AS reason,
                (SELECT count(*)::int FROM outbox w WHERE w.published_at IS NULL AND w.aggregateid = o.aggregateid
                    AND w.aggregatetype = o.aggregatetype AND w.seq > o.seq) AS waiting
           FROM outbox o WHERE o.parked_at IS NOT NULL AND o.published_at IS NULL ORDER BY o.seq`,
      );
      return result.rows;
    });
    if (options.json) {
      for (const row of rows) console.log(JSON.stringify(row));
      return;
    }
    if (rows.length === 0) return void console.log('no parked outbox rows');
    const table = new Table({
      head: ['id', 'type', 'aggregate', 'topic', 'bytes', 'parked at', 'waiting', 'reason'],
    });
    for (const r of rows)
      table.push([
        r.id,
        r.type,
        `${r.aggregateType}/${r.aggregateId}`,
        r.topic,
        r.bytes,
        r.parkedAt.toISOString(),
        r.waiting,
        r.reason.slice(0, 80),
      ]);
    console.log(table.toString());
  });

program
  .command('unpark <id>')
  .description('clear the park: the relay sends the row again (it is parked again if still refused)')
  .option('--json', 'print the result as JSON')
  .action(async (id: string, options: { json?: boolean }) => {
    const found = await withDatabase(async (client) => {
      const { rowCount } = await client.query(
        `UPDATE outbox SET parked_at = NULL, parked_reason = NULL
          WHERE id = $1::uuid AND parked_at IS NOT NULL AND published_at IS NULL`,
        [id],
      );
      return rowCount === 1;
    });
    report(options.json, { id, action: 'unparked', ok: found });
  });

program
  .command('discard <id>')
  .description('resolve the row without sending it: consumers never see it; its aggregate moves on')
  .requiredOption('--reason <text>', 'why, kept on the row')
  .option('--json', 'print the result as JSON')
  .action(async (id: string, options: { reason: string; json?: boolean }) => {
    const found = await withDatabase(async (client) => {
      // Marked published (and so purged with the rest) yet never sent: the reason says so.
      const { rowCount } = await client.query(
        `UPDATE outbox SET published_at = now(), parked_reason = 'discarded: ' || $2 || ' (was: ' || parked_reason || ')'
          WHERE id = $1::uuid AND parked_at IS NOT NULL AND published_at IS NULL`,
        [id, options.reason],
      );
      return rowCount === 1;
    });
    report(options.json, { id, action: 'discarded', ok: found });
  });

function report(json: boolean | undefined, result: { id: string; action: string; ok: boolean }): void {
  if (json) console.log(JSON.stringify(result));
  else if (result.ok) console.log(`${result.action} ${result.id}`);
  if (!result.ok) program.error(`no parked outbox row with id ${result.id}`, { exitCode: 1 });
}

await program.parseAsync();
