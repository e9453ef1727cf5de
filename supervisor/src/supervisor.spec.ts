import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { createControlServer } from './control-server.js';
import { Supervisor, type ProcessInfo } from './supervisor.js';

const sleeper = (name: string) => ({
  name,
  command: process.execPath,
  args: ['-e', 'console.log("up"); setInterval(() => {}, 1000)'],
});
const backoff = { initialMs: 50, maxMs: 200, stableMs: 60_000 };

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('supervisor', () => {
  let supervisor: Supervisor | undefined;
  afterEach(async () => {
    await supervisor?.shutdown();
  });
  const row = (name: string): ProcessInfo => supervisor!.list().find((p) => p.name === name)!;

  it('restarts a process killed with -9 after its back-off, and counts the restart', async () => {
    supervisor = new Supervisor([sleeper('order')], { backoff, output: () => undefined });
    supervisor.startAll();
    const firstPid = row('order').pid;
    supervisor.kill('order');
    await until(() => row('order').state === 'backoff');
    await until(() => row('order').state === 'running');
    expect(row('order')).toMatchObject({ restarts: 1, lastExit: 'signal SIGKILL' });
    expect(row('order').pid).not.toBe(firstPid);
  });

  it('waits longer after each consecutive crash, up to the cap', async () => {
    const logs: Record<string, unknown>[] = [];
    supervisor = new Supervisor(
      [{ name: 'broken', command: process.execPath, args: ['-e', 'process.exit(3)'] }],
      { backoff, output: () => undefined, log: (_l, _m, fields) => fields && logs.push(fields) },
    );
    supervisor.startAll();
    await until(() => row('broken').restarts >= 4, 10_000);
    expect(
      logs
        .filter((f) => 'delayMs' in f)
        .map((f) => f.delayMs)
        .slice(0, 4),
    ).toEqual([50, 100, 200, 200]);
    expect(row('broken').lastExit).toBe('code 3');
  });

  it('leaves a process stopped on request stopped', async () => {
    supervisor = new Supervisor([sleeper('payment')], { backoff, output: () => undefined });
    supervisor.startAll();
    await supervisor.stop('payment');
    await new Promise((r) => setTimeout(r, 300));
    expect(row('payment')).toMatchObject({ state: 'stopped', restarts: 0, pid: null });
  });

  it('pauses and resumes a process with SIGSTOP and SIGCONT', async () => {
    supervisor = new Supervisor([sleeper('shipping')], { backoff, output: () => undefined });
    supervisor.startAll();
    const pid = row('shipping').pid!;
    supervisor.pause('shipping');
    await until(() => processState(pid) === 'T');
    supervisor.resume('shipping');
    await until(() => processState(pid) !== 'T');
    expect(row('shipping')).toMatchObject({ state: 'running', pid, restarts: 0 });
  });

  it('runs replicas as separate processes under one group', async () => {
    supervisor = new Supervisor(
      [
        { ...sleeper('order'), group: 'order', port: 3000 },
        { ...sleeper('order-2'), group: 'order', port: 3100 },
      ],
      { backoff, output: () => undefined },
    );
    supervisor.startAll();
    const rows = supervisor.list();
    expect(rows.map((r) => [r.name, r.group, r.port])).toEqual([
      ['order', 'order', 3000],
      ['order-2', 'order', 3100],
    ]);
    expect(rows[0]!.pid).not.toBe(rows[1]!.pid);
  });
});

describe('control surface', () => {
  let supervisor: Supervisor;
  let base: string;
  let close: () => Promise<void>;
  afterEach(async () => {
    await close();
    await supervisor.shutdown();
  });
  const start = async (token: string | undefined) => {
    supervisor = new Supervisor([sleeper('inventory')], { backoff, output: () => undefined });
    supervisor.startAll();
    const server = createControlServer(supervisor, token);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((r) => server.close(() => r()));
  };
  const post = (path: string, token?: string) =>
    fetch(`${base}${path}`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('lists processes to anyone on the machine', async () => {
    await start('secret-token');
    const rows = (await (await fetch(`${base}/processes`)).json()) as ProcessInfo[];
    expect(rows).toMatchObject([{ name: 'inventory', state: 'running', restarts: 0 }]);
  });

  it('refuses a change without the admin token, or with a wrong one', async () => {
    await start('secret-token');
    expect((await post('/processes/inventory/kill')).status).toBe(401);
    expect((await post('/processes/inventory/kill', 'secret-tokeN')).status).toBe(401);
    expect(supervisor.list()[0]!.restarts).toBe(0);
  });

  it('refuses every change when no admin token is configured', async () => {
    await start(undefined);
    expect((await post('/processes/inventory/stop', 'anything')).status).toBe(403);
  });

  it('kills a named process with the admin token, and answers 404 for an unknown one', async () => {
    await start('secret-token');
    expect((await post('/processes/nobody/kill', 'secret-token')).status).toBe(404);
    const killed = await post('/processes/inventory/kill', 'secret-token');
    expect(killed.status).toBe(200);
    await until(() => supervisor.list()[0]!.restarts === 1);
  });
});

function processState(pid: number): string {
  // /proc/<pid>/stat: "pid (comm) S ..."; T = stopped by a signal.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}
