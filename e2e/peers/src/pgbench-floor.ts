import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { testInfra } from '@order-saga/testing';
import { createPeerDatabase, type PeerDatabase } from './orders/peer-database.js';

/**
 * A happy saga's four step transactions (orders/order-steps.ts, the SQL each step sends for
 * `alice`'s two widgets to Paris), with no engine and no Node.js: what the database alone
 * can do, the floor every engine's cost is measured from. `:r` names the order.
 */
const HAPPY_SAGA = String.raw`\set r random(1, 9000000000000000000)
BEGIN;
SELECT status::text, reason FROM inventory.reservation WHERE order_id = md5(:r::text)::uuid FOR UPDATE;
SELECT sku, price, on_hand FROM inventory.product WHERE sku = ANY('{widget}') ORDER BY sku FOR UPDATE;
INSERT INTO inventory.reservation (order_id, status, items, reason, sku)
  VALUES (md5(:r::text)::uuid, 'RESERVED', '[{"sku":"widget","quantity":2}]', NULL, NULL);
UPDATE inventory.product SET on_hand = on_hand - 2, reserved = reserved + 2 WHERE sku = 'widget';
COMMIT;
BEGIN;
SELECT status::text, reason FROM payment.payment WHERE order_id = md5(:r::text)::uuid FOR UPDATE;
UPDATE payment.customer SET available_credit = available_credit - 2000 WHERE id = 'alice' AND available_credit >= 2000;
INSERT INTO payment.payment (order_id, payment_id, customer_id, amount, status, reason, charged_at)
  VALUES (md5(:r::text)::uuid, gen_random_uuid(), 'alice', 2000, 'CHARGED', NULL, now());
COMMIT;
BEGIN;
SELECT status::text, reason FROM shipping.shipment WHERE order_id = md5(:r::text)::uuid FOR UPDATE;
SELECT 1 FROM shipping.unserved_country WHERE code = 'FR';
INSERT INTO shipping.shipment (order_id, shipment_id, status, country, city, line1, items, reason)
  VALUES (md5(:r::text)::uuid, gen_random_uuid(), 'CREATED', 'FR', 'Paris', '1 rue de Rivoli',
          '[{"sku":"widget","quantity":2}]', NULL);
COMMIT;
BEGIN;
UPDATE inventory.reservation SET status = 'COMMITTED', updated_at = now()
 WHERE order_id = md5(:r::text)::uuid AND status = 'RESERVED';
UPDATE inventory.product SET reserved = reserved - 2, shipped = shipped + 2 WHERE sku = 'widget';
INSERT INTO "order"."order" (id, customer_id, status, reason, total, country, city, line1, correlation_id, updated_at)
  VALUES (md5(:r::text)::uuid, 'alice', 'CONFIRMED', NULL, 2000, 'FR', 'Paris', '1 rue de Rivoli', md5(:r::text), now());
INSERT INTO "order".order_item (order_id, sku, quantity, unit_price) VALUES (md5(:r::text)::uuid, 'widget', 2, 1000);
COMMIT;
`;

/** What pgbench did: sagas per second, and how many it ran in all. */
export interface PgbenchRun {
  sagasPerSecond: number;
  sagas: number;
}

/**
 * Runs the four transactions with pgbench (`-c 8 -j 2 -M prepared`) for `seconds` on a scratch
 * database of its own. `measure` is called with the database's name before pgbench starts; it
 * answers what to call once pgbench runs (given pgbench's pid, awaited) and once pgbench has
 * exited, before the database is dropped: pgbench's sessions have ended by then, so the server
 * has counted every commit they made. pgbench counts one run of the script as one transaction.
 */
export async function pgbenchFloor(
  seconds: number,
  measure: (database: string) => Promise<{
    whileRunning: (pgbenchPid: number) => Promise<void>;
    afterExit: () => Promise<void>;
  }>,
): Promise<PgbenchRun> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-peers-'));
  let database: PeerDatabase | undefined;
  try {
    database = await createPeerDatabase(testInfra().adminDatabaseUrl, 'peers_pgbench');
    const script = join(dir, 'happy-saga.sql');
    await writeFile(script, HAPPY_SAGA);
    const hooks = await measure(database.name);
    const args = [
      '-n',
      '-f',
      script,
      '-M',
      'prepared',
      '-c',
      '8',
      '-j',
      '2',
      '-T',
      String(seconds),
      database.url,
    ];
    const running = promisify(execFile)('pgbench', args);
    const [{ stdout }] = await Promise.all([running, hooks.whileRunning(running.child.pid!)]);
    await hooks.afterExit();
    const failed = /number of failed transactions: (\d+)/.exec(stdout);
    if (failed && Number(failed[1]) > 0) throw new Error(`pgbench: ${failed[1]} sagas failed:\n${stdout}`);
    const tps = /tps = ([\d.]+)/.exec(stdout);
    const processed = /number of transactions actually processed: (\d+)/.exec(stdout);
    if (!tps || !processed) throw new Error(`no tps in pgbench output:\n${stdout}`);
    return { sagasPerSecond: Number(tps[1]), sagas: Number(processed[1]) };
  } finally {
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  }
}
