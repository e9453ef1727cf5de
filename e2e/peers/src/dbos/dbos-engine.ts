import { fileURLToPath } from 'node:url';
import { postgresProcess } from '@order-saga/e2e/harness';
import { TestProcess, testInfra, waitFor } from '@order-saga/testing';
import type pg from 'pg';
import { cleanUp, freePort, pinnedVersion, type Engine } from '../engine.js';
import {
  createEmptyDatabase,
  createPeerDatabase,
  schemaPool,
  schemaReader,
  type PeerDatabase,
} from '../orders/peer-database.js';

const app = fileURLToPath(new URL('../../dist/dbos/dbos-app.main.js', import.meta.url));

/**
 * The DBOS peer: a scratch database with the order tables, another for DBOS's system database,
 * and the app process (dbos-app.main.ts), whose Node.js process is the whole engine.
 */
export async function startDbos(): Promise<Engine> {
  const adminUrl = testInfra().adminDatabaseUrl;
  const databases: PeerDatabase[] = [];
  let child: TestProcess | undefined;
  let orders: pg.Pool | undefined;
  let tables: ReturnType<typeof schemaReader> | undefined;
  const stop = () =>
    cleanUp(
      async () => await child?.stop(),
      async () => await orders?.end(),
      async () => await tables?.end(),
      ...databases.map((db) => () => db.drop()),
    );
  try {
    const business = await createPeerDatabase(adminUrl, 'peers_dbos');
    databases.push(business);
    const system = await createEmptyDatabase(adminUrl, 'peers_dbos_sys');
    databases.push(system);
    const port = await freePort();
    const running = new TestProcess('dbos', app, {
      PEERS_DATABASE_URL: business.url,
      DBOS_SYSTEM_DATABASE_URL: system.url,
      PORT: String(port),
    }).start();
    child = running;
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${url}/health`).catch(() => null))?.ok === true, {
      timeoutMs: 60_000,
      intervalMs: 200,
      message: () => `the DBOS peer did not start:\n${running.logs.slice(-4000)}`,
    });
    orders = schemaPool(business.url, 'order', 2);
    const reader = schemaReader(business.url);
    tables = reader;
    const names = databases.map((db) => db.name);
    return {
      name: `DBOS Transact ${pinnedVersion('@dbos-inc/dbos-sdk')}`,
      orders,
      databases: names,
      placeOrder: (body, key = crypto.randomUUID()) =>
        fetch(`${url}/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': key },
          body: JSON.stringify(body),
        }),
      query: (schema, sql) => reader.query(schema, sql),
      classify: ({ pid, cmdline }) => {
        if (pid === running.pid) return 'Node';
        return postgresProcess(cmdline, names) ? 'PostgreSQL' : null;
      },
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
