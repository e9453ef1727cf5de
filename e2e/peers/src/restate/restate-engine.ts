import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { postgresProcess } from '@order-saga/e2e/harness';
import { TestProcess, testInfra, waitFor } from '@order-saga/testing';
import type pg from 'pg';
import { cleanUp, freePort, pinnedVersion, type Engine } from '../engine.js';
import { createPeerDatabase, schemaPool, schemaReader, type PeerDatabase } from '../orders/peer-database.js';

const endpointMain = fileURLToPath(new URL('../../dist/restate/restate-endpoint.main.js', import.meta.url));
// `.run/` is ignored by git; each run's server data goes in a folder of its own there.
const runDir = fileURLToPath(new URL('../../../../.run/peers', import.meta.url));

/**
 * The server binary that `@restatedev/restate-server` ships in its platform package. Started
 * directly, not through the package's Node.js launcher, so its CPU is the server's alone.
 */
function serverBinary(): string {
  const launcher = createRequire(import.meta.url).resolve('@restatedev/restate-server/package.json');
  return createRequire(launcher).resolve(
    `@restatedev/restate-server-${platform()}-${arch()}/bin/restate-server`,
  );
}

/**
 * The Restate peer: a scratch database with the order tables, a Restate server (single node, its
 * defaults, data in a fresh folder) and the service endpoint (restate-endpoint.main.ts), registered
 * as a deployment through the server's admin API. Orders go in through the server's ingress.
 */
export async function startRestate(): Promise<Engine> {
  const dataDir = join(runDir, `restate-${randomBytes(4).toString('hex')}`);
  let business: PeerDatabase | undefined;
  let endpoint: TestProcess | undefined;
  let server: ReturnType<typeof spawn> | undefined;
  let serverLog = '';
  let orders: pg.Pool | undefined;
  let tables: ReturnType<typeof schemaReader> | undefined;
  const stop = () =>
    cleanUp(
      async () => await endpoint?.stop(),
      async () => {
        if (!server || server.exitCode !== null || server.signalCode !== null) return;
        const exited = new Promise((resolve) => server!.once('exit', resolve));
        server.kill('SIGTERM');
        const timer = setTimeout(() => server!.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      },
      () => rm(dataDir, { recursive: true, force: true }),
      async () => await orders?.end(),
      async () => await tables?.end(),
      async () => await business?.drop(),
    );
  try {
    business = await createPeerDatabase(testInfra().adminDatabaseUrl, 'peers_restate');
    const [ingressPort, adminPort, fabricPort, endpointPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    await mkdir(dataDir, { recursive: true });
    const started = spawn(serverBinary(), ['--no-logo', '--base-dir', dataDir, '--node-name', 'peers'], {
      cwd: dataDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        RESTATE_LISTEN_MODE: 'tcp',
        RESTATE_BIND_ADDRESS: `127.0.0.1:${fabricPort}`,
        RESTATE_ADMIN__BIND_ADDRESS: `127.0.0.1:${adminPort}`,
        RESTATE_INGRESS__BIND_ADDRESS: `127.0.0.1:${ingressPort}`,
        RESTATE_DISABLE_TELEMETRY: 'true',
        RESTATE_LOG_FILTER: 'warn',
      },
    });
    server = started;
    const append = (chunk: Buffer) => void (serverLog = (serverLog + chunk.toString()).slice(-20_000));
    started.stdout!.on('data', append);
    started.stderr!.on('data', append);
    const admin = `http://127.0.0.1:${adminPort}`;
    const ingress = `http://127.0.0.1:${ingressPort}`;
    await waitFor(async () => (await fetch(`${admin}/health`).catch(() => null))?.ok === true, {
      timeoutMs: 60_000,
      intervalMs: 200,
      message: () => `the Restate server did not start:\n${serverLog}`,
    });

    const running = new TestProcess('restate-endpoint', endpointMain, {
      PEERS_DATABASE_URL: business.url,
      PORT: String(endpointPort),
    }).start();
    endpoint = running;
    await running.waitForOutput(/listening on/, 60_000);
    const registered = await fetch(`${admin}/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uri: `http://127.0.0.1:${endpointPort}` }),
    });
    if (!registered.ok)
      throw new Error(`registering the endpoint answered ${registered.status}: ${await registered.text()}`);
    await waitFor(async () => (await fetch(`${ingress}/restate/health`).catch(() => null))?.ok === true, {
      timeoutMs: 60_000,
      intervalMs: 200,
      message: () => `the Restate ingress did not become ready:\n${serverLog}`,
    });

    orders = schemaPool(business.url, 'order', 2);
    const reader = schemaReader(business.url);
    tables = reader;
    const names = [business.name];
    return {
      name: `Restate ${pinnedVersion('@restatedev/restate-server')}`,
      orders,
      databases: names,
      placeOrder: async (body, key = crypto.randomUUID()) => {
        // The workflow's key is the order id: a second submission with the same key starts nothing.
        const sent = await fetch(`${ingress}/OrderSaga/${key}/run/send`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ...(body as object), orderId: key }),
        });
        if (!sent.ok) return sent;
        await sent.body?.cancel();
        return Response.json({ orderId: key }, { status: 202 });
      },
      query: (schema, sql) => reader.query(schema, sql),
      // Counted by the kernel as the server dirties pages of its files: RocksDB's WAL, memtable
      // flushes and compactions alike.
      storageBytes: async () =>
        Number(
          /^write_bytes: (\d+)$/m.exec(await readFile(`/proc/${started.pid}/io`, 'utf8'))?.[1] ?? Number.NaN,
        ),
      classify: ({ pid, cmdline }) => {
        if (pid === started.pid) return 'engine';
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
