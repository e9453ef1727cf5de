import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

/** Sagas the step transactions pick from: few enough to stay cached, enough that 8 clients rarely wait on one row. */
const SAGAS = 1000;

// A few sagas waiting for their payment, on the order schema as migrated (triggers included).
const SEED = `
INSERT INTO "order" (id, customer_id, status, total, country, city, line1, correlation_id, updated_at)
  SELECT md5(i::text)::uuid, 'alice', 'PENDING', 2000, 'FR', 'Paris', '1 rue de Rivoli', md5(i::text), now()
    FROM generate_series(1, ${SAGAS}) AS i;
INSERT INTO saga (order_id, status, deadline_at, data, updated_at)
  SELECT md5(i::text)::uuid, 'CHARGING', now() + interval '5 seconds',
         '{"customerId":"alice","total":2000,"items":[{"sku":"widget","quantity":2}],"address":{"country":"FR","city":"Paris","line1":"1 rue de Rivoli"}}',
         now()
    FROM generate_series(1, ${SAGAS}) AS i;
ANALYZE;
`;

// One saga step as the services commit it, with no Node.js in the way: the business row moves
// on, the reply is recorded in the inbox, the next command goes to the outbox (whose trigger
// notifies the relay, as in production). The random value names the incoming message.
const SAGA_STEP = String.raw`\set n random(1, ${SAGAS})
\set r random(1, 9000000000000000000)
BEGIN;
UPDATE saga SET status = 'SHIPPING', attempt = 1, deadline_at = now() + interval '5 seconds',
       version = version + 1, updated_at = now()
 WHERE order_id = md5(:n::text)::uuid;
INSERT INTO inbox (consumer, message_id, topic, partition, "offset")
  VALUES ('pgbench', md5(:r::text)::uuid, 'payment.events', 0, :r::bigint);
INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, topic, schema_version, correlation_id)
  VALUES (gen_random_uuid(), 'Order', md5(:n::text)::uuid::text, 'CreateShipment',
          '{"address":{"country":"FR","city":"Paris","line1":"1 rue de Rivoli"},"items":[{"sku":"widget","quantity":2}]}',
          'shipping.commands', 1, md5(:n::text));
END;
`;

/** What one pgbench run measured. */
export interface PgbenchResult {
  tps: number;
  clients: number;
  seconds: number;
  /** The script, for the report. */
  script: string;
}

/**
 * The machine's ceiling for one saga step: pgbench (`-c 8 -j 2 -M prepared`) running a saga
 * step's transaction (business row update + inbox insert + outbox insert) on `databaseUrl`, a
 * scratch database migrated with the order schema. `whileRunning` is called with pgbench's
 * process id once it has started (e.g. to measure its CPU); pgbench's result waits for it.
 */
export async function pgbenchSagaStepTps(
  databaseUrl: string,
  seconds: number,
  { clients = 8, whileRunning }: { clients?: number; whileRunning?: (pid: number) => Promise<void> } = {},
): Promise<PgbenchResult> {
  const seed = new pg.Client({ connectionString: databaseUrl });
  await seed.connect();
  try {
    await seed.query(SEED);
  } finally {
    await seed.end();
  }
  const dir = await mkdtemp(join(tmpdir(), 'bench-saga-step-'));
  try {
    const script = join(dir, 'saga-step.sql');
    await writeFile(script, SAGA_STEP);
    const running = promisify(execFile)('pgbench', [
      '-n', // no vacuum: the order schema has no pgbench_* tables
      '-f',
      script,
      '-M',
      'prepared',
      '-c',
      String(clients),
      '-j',
      '2',
      '-T',
      String(seconds),
      databaseUrl,
    ]);
    const [{ stdout }] = await Promise.all([running, whileRunning?.(running.child.pid!)]);
    const tps = /tps = ([\d.]+)/.exec(stdout);
    if (!tps) throw new Error(`no tps in pgbench output:\n${stdout}`);
    const failed = /number of failed transactions: (\d+)/.exec(stdout);
    if (failed && Number(failed[1]) > 0)
      throw new Error(`pgbench: ${failed[1]} transactions failed:\n${stdout}`);
    return { tps: Number(tps[1]), clients, seconds, script: SAGA_STEP };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
