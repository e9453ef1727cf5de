import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createControlServer, type SupervisorHealth } from './control-server.js';
import { Supervisor, type ProcessInfo, type ProcessSpec } from './supervisor.js';

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

describe('supervisor, external processes (a broker started by kafka.sh)', () => {
  let supervisor: Supervisor | undefined;
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'supervisor-external-'));
  });
  afterEach(async () => {
    await supervisor?.shutdown();
    // shutdown() leaves external processes to their owner: here, the test.
    for (const pid of started) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    started.length = 0;
    rmSync(dir, { recursive: true, force: true });
  });
  const started: number[] = [];
  const row = (name: string): ProcessInfo => supervisor!.list().find((p) => p.name === name)!;
  // Like kafka.sh start: starts a detached process, writes its pid, and exits once it is up.
  const daemon = (name: string) => {
    const pidFile = join(dir, `${name}.pid`);
    const starts = join(dir, `${name}.starts`);
    return {
      name,
      command: '/bin/sh',
      args: [
        '-c',
        `echo start >> ${starts}; ${process.execPath} -e "setInterval(() => {}, 1000)" >/dev/null 2>&1 & echo $! > ${pidFile}`,
      ],
      pidFile,
      starts: () => readFileSync(starts, 'utf8').trim().split('\n').length,
    };
  };
  const running = async (name: string) => {
    await until(() => row(name).state === 'running');
    started.push(row(name).pid!);
    return row(name).pid!;
  };

  it('signals the pid its start command wrote, and starts it again with that command after a kill -9', async () => {
    const kafka = daemon('kafka-2');
    supervisor = new Supervisor([kafka], { backoff, output: () => undefined });
    supervisor.startAll();
    const firstPid = await running('kafka-2');
    expect(isAlive(firstPid)).toBe(true);
    supervisor.kill('kafka-2');
    await until(() => row('kafka-2').state === 'backoff');
    expect(isAlive(firstPid)).toBe(false);
    const secondPid = await running('kafka-2');
    expect(secondPid).not.toBe(firstPid);
    expect(row('kafka-2')).toMatchObject({ restarts: 1, lastExit: 'signal SIGKILL' });
    expect(kafka.starts()).toBe(2);
  });

  it('restarts an external process that died without being asked', async () => {
    const kafka = daemon('kafka-1');
    supervisor = new Supervisor([kafka], { backoff, output: () => undefined });
    supervisor.startAll();
    const pid = await running('kafka-1');
    process.kill(pid, 'SIGKILL');
    await until(() => row('kafka-1').restarts === 1 && row('kafka-1').state === 'running');
    expect(row('kafka-1').pid).not.toBe(pid);
    started.push(row('kafka-1').pid!);
  });

  it('pauses, resumes, stops and starts an external process; shutdown leaves it running', async () => {
    supervisor = new Supervisor([daemon('kafka-3')], { backoff, output: () => undefined });
    supervisor.startAll();
    const pid = await running('kafka-3');
    supervisor.pause('kafka-3');
    await until(() => processState(pid) === 'T');
    supervisor.resume('kafka-3');
    await until(() => processState(pid) !== 'T');
    await supervisor.stop('kafka-3');
    expect(isAlive(pid)).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(row('kafka-3')).toMatchObject({ state: 'stopped', pid: null, restarts: 0 });
    const again = await running((supervisor.start('kafka-3'), 'kafka-3'));
    await supervisor.shutdown();
    expect(isAlive(again)).toBe(true);
  });

  it('counts a failing start command as a crash', async () => {
    supervisor = new Supervisor(
      [{ name: 'kafka-1', command: '/bin/sh', args: ['-c', 'exit 4'], pidFile: join(dir, 'none.pid') }],
      { backoff, output: () => undefined },
    );
    supervisor.startAll();
    await until(() => row('kafka-1').restarts >= 2);
    expect(row('kafka-1').lastExit).toBe('start command exited with code 4');
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
  const start = async (token: string | undefined, specs: ProcessSpec[] = [sleeper('inventory')]) => {
    supervisor = new Supervisor(specs, { backoff, output: () => undefined });
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

  it('probes a broker by connecting to its port, a service by GET /health', async () => {
    // Accepts connections and speaks no HTTP, as a Kafka listener does to an HTTP client.
    const broker = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => broker.listen(0, '127.0.0.1', r));
    const port = (broker.address() as AddressInfo).port;
    try {
      await start('secret-token', [
        { ...sleeper('kafka-1'), port, probe: 'tcp' },
        { ...sleeper('order'), port },
      ]);
      const health = (await (await fetch(`${base}/health`)).json()) as SupervisorHealth;
      expect(health.processes.map((p) => [p.name, p.healthy])).toEqual([
        ['kafka-1', true],
        ['order', false],
      ]);
    } finally {
      broker.close();
    }
  });
});

function processState(pid: number): string {
  // /proc/<pid>/stat: "pid (comm) S ..."; T = stopped by a signal.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

function isAlive(pid: number): boolean {
  try {
    return processState(pid) !== 'Z';
  } catch {
    return false;
  }
}
