import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { defaultBackoff, restartDelay, type BackoffPolicy } from './backoff.js';

/** One process the supervisor runs: a service instance or a Kafka broker. */
export interface ProcessSpec {
  /** Unique name used by the control surface: `order`, `order-2`, `kafka-1`. */
  name: string;
  /** The service it is an instance of (replicas share it); shown in listings. */
  group?: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: Record<string, string>;
  /** The port it listens on, if any (listing and /health probes). */
  port?: number;
  /** How /health probes `port`: `http` asks GET /health (default), `tcp` only connects (a broker). */
  probe?: 'http' | 'tcp';
  /**
   * Set for a process that runs on its own, outside the supervisor's process tree (a Kafka broker
   * started by scripts/kafka.sh, which the script stops when ./scripts/start ends): `command`
   * starts it in the background and exits 0 once it is up, and the pid read from this file is the
   * one signalled (kill, pause, resume, stop) and watched: when it disappears unasked, `command`
   * runs again after the back-off, as for a crash. `shutdown()` leaves it running.
   */
  pidFile?: string;
}

/**
 * - `starting`: an external process's start command runs;
 * - `running`: a child process exists (it may not answer yet);
 * - `paused`: it was sent SIGSTOP;
 * - `backoff`: it died on its own and waits for its restart;
 * - `stopped`: stopped on request (or supervisor shutting down); it stays down until started.
 */
export type ProcessState = 'starting' | 'running' | 'paused' | 'backoff' | 'stopped';

/** A row of `pnpm system ps` and of the supervisor's /health. */
export interface ProcessInfo {
  name: string;
  group: string;
  pid: number | null;
  state: ProcessState;
  restarts: number;
  port: number | null;
  lastExit: string | null;
  nextStartInMs: number | null;
}

/** What the supervisor says about itself; lines are written by the caller (pretty or JSON). */
export type SupervisorLog = (
  level: 'info' | 'warn' | 'error',
  msg: string,
  fields?: Record<string, unknown>,
) => void;

interface Managed {
  spec: ProcessSpec;
  child: ChildProcess | null;
  state: ProcessState;
  restarts: number;
  consecutiveCrashes: number;
  startedAt: number;
  lastExit: string | null;
  restartTimer: NodeJS.Timeout | null;
  restartAt: number | null;
  /** Set by stop/restart: the next exit is expected and must not count as a crash. */
  expectExit: boolean;
  exited: Promise<void> | null;
  /** An external process (`pidFile`): its pid once its start command succeeded. */
  pid: number | null;
  /** An external process: its start command, while it runs. */
  starting: Promise<void> | null;
  /** An external process: the timer that checks whether its pid still lives. */
  watch: NodeJS.Timeout | null;
  /** The last signal that ends a process sent to an external one (its exit status is not ours to read). */
  sentSignal: NodeJS.Signals | null;
}

export interface SupervisorOptions {
  backoff?: BackoffPolicy;
  log?: SupervisorLog;
  /** Receives each line a child writes (stdout and stderr), to print with its name. */
  output?: (name: string, line: string) => void;
  /** Grace before SIGKILL when stopping. */
  stopGraceMs?: number;
}

/**
 * Runs processes and keeps them running: one that exits on its own (crash, kill -9, OOM) is
 * started again after a capped exponential back-off, and every restart is counted. A process
 * stopped on request stays stopped. `shutdown()` stops all of them.
 */
export class Supervisor {
  private readonly processes = new Map<string, Managed>();
  private readonly backoff: BackoffPolicy;
  private readonly log: SupervisorLog;
  private readonly output: (name: string, line: string) => void;
  private readonly stopGraceMs: number;
  private shuttingDown = false;

  constructor(specs: readonly ProcessSpec[], options: SupervisorOptions = {}) {
    this.backoff = options.backoff ?? defaultBackoff;
    this.log = options.log ?? (() => undefined);
    this.output = options.output ?? ((name, line) => process.stdout.write(`${name} | ${line}\n`));
    this.stopGraceMs = options.stopGraceMs ?? 10_000;
    for (const spec of specs) {
      if (this.processes.has(spec.name)) throw new Error(`two processes are named ${spec.name}`);
      this.processes.set(spec.name, {
        spec,
        child: null,
        state: 'stopped',
        restarts: 0,
        consecutiveCrashes: 0,
        startedAt: 0,
        lastExit: null,
        restartTimer: null,
        restartAt: null,
        expectExit: false,
        exited: null,
        pid: null,
        starting: null,
        watch: null,
        sentSignal: null,
      });
    }
  }

  /** Starts every process that is not running. */
  startAll(): void {
    for (const name of this.processes.keys()) this.start(name);
  }

  list(): ProcessInfo[] {
    return [...this.processes.values()].map((m) => ({
      name: m.spec.name,
      group: m.spec.group ?? m.spec.name,
      pid: m.spec.pidFile ? m.pid : (m.child?.pid ?? null),
      state: m.state,
      restarts: m.restarts,
      port: m.spec.port ?? null,
      lastExit: m.lastExit,
      nextStartInMs: m.restartAt === null ? null : Math.max(0, m.restartAt - Date.now()),
    }));
  }

  /** How /health probes the process's port. */
  probeOf(name: string): 'http' | 'tcp' {
    return this.get(name).spec.probe ?? 'http';
  }

  has(name: string): boolean {
    return this.processes.has(name);
  }

  /** Starts a stopped process now (also cuts a pending back-off short). */
  start(name: string): ProcessInfo {
    const m = this.get(name);
    if (m.state === 'starting' || m.state === 'running' || m.state === 'paused') return this.info(m);
    this.clearRestart(m);
    this.spawn(m);
    return this.info(m);
  }

  /** SIGTERM, then SIGKILL after the grace period; the process stays stopped. */
  async stop(name: string): Promise<ProcessInfo> {
    const m = this.get(name);
    this.clearRestart(m);
    if (m.spec.pidFile) {
      await this.stopExternal(m);
      return this.info(m);
    }
    if (m.child) {
      m.expectExit = true;
      // A paused process cannot act on SIGTERM until it runs again.
      if (m.state === 'paused') m.child.kill('SIGCONT');
      m.child.kill('SIGTERM');
      const grace = setTimeout(() => m.child?.kill('SIGKILL'), this.stopGraceMs);
      await m.exited;
      clearTimeout(grace);
    }
    m.state = 'stopped';
    return this.info(m);
  }

  /**
   * SIGKILL, as a crash would: the process is restarted with back-off like any other crash,
   * which is what a drill wants to watch.
   */
  kill(name: string): ProcessInfo {
    return this.signal(name, 'SIGKILL');
  }

  pause(name: string): ProcessInfo {
    const info = this.signal(name, 'SIGSTOP');
    this.get(name).state = 'paused';
    return { ...info, state: 'paused' };
  }

  resume(name: string): ProcessInfo {
    const info = this.signal(name, 'SIGCONT');
    this.get(name).state = 'running';
    return { ...info, state: 'running' };
  }

  /** Stops the process (gracefully) and starts it again at once, without back-off. */
  async restart(name: string): Promise<ProcessInfo> {
    await this.stop(name);
    this.start(name);
    // An external process has a pid to show once its start command is done.
    await this.get(name).starting;
    return this.info(this.get(name));
  }

  /** Stops everything but external processes (their owner stops them); nothing is restarted afterwards. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    await Promise.all(
      [...this.processes.values()].map(async (m) => {
        if (!m.spec.pidFile) return this.stop(m.spec.name);
        // Its owner stops it after the supervisor: a start half done would leave it unknown to them.
        if (m.starting) await m.starting;
        this.clearRestart(m);
        if (m.watch) clearInterval(m.watch);
        m.watch = null;
      }),
    );
  }

  private signal(name: string, signal: NodeJS.Signals): ProcessInfo {
    const m = this.get(name);
    if (m.spec.pidFile) {
      if (m.pid === null || !alive(m.pid)) throw new ProcessNotRunning(name, m.state);
      if (signal === 'SIGKILL' || signal === 'SIGTERM') m.sentSignal = signal;
      process.kill(m.pid, signal);
      this.log('info', `sent ${signal} to ${name}`, { process: name, pid: m.pid, signal });
      return this.info(m);
    }
    if (!m.child || m.child.exitCode !== null || m.child.signalCode !== null)
      throw new ProcessNotRunning(name, m.state);
    m.child.kill(signal);
    this.log('info', `sent ${signal} to ${name}`, { process: name, pid: m.child.pid, signal });
    return this.info(m);
  }

  /**
   * Runs an external process's start command; once it succeeded, reads the pid and watches it.
   * A start command that fails counts as a crash (back-off, then another try).
   */
  private spawnExternal(m: Managed): void {
    const { spec } = m;
    m.state = 'starting';
    m.startedAt = Date.now();
    m.expectExit = false;
    m.sentSignal = null;
    let gone!: () => void;
    m.exited = new Promise((resolve) => (gone = resolve));
    const starter = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [starter.stdout, starter.stderr])
      createInterface({ input: stream! }).on('line', (line) => this.output(spec.name, line));
    this.log('info', `starting ${spec.name}`, { process: spec.name, port: spec.port });
    m.starting = new Promise((resolve) => {
      const done = (failure: string | null) => {
        m.starting = null;
        resolve();
        const pid = failure === null ? readPid(spec.pidFile!) : null;
        if (pid === null || !alive(pid)) {
          this.exitedWith(m, failure ?? `no live pid in ${spec.pidFile}`);
          gone();
          return;
        }
        m.pid = pid;
        m.state = 'running';
        this.log('info', `started ${spec.name}`, { process: spec.name, pid, port: spec.port });
        m.watch = setInterval(() => {
          if (alive(pid)) return;
          clearInterval(m.watch!);
          m.watch = null;
          m.pid = null;
          this.exitedWith(m, m.sentSignal ? `signal ${m.sentSignal}` : 'gone');
          gone();
        }, 250);
      };
      starter.once('error', (error) => done(`start command failed: ${error.message}`));
      starter.once('exit', (code, signal) =>
        done(code === 0 ? null : `start command exited with ${signal ? `signal ${signal}` : `code ${code}`}`),
      );
    });
  }

  private async stopExternal(m: Managed): Promise<void> {
    if (m.starting) await m.starting;
    this.clearRestart(m);
    if (m.pid !== null) {
      const pid = m.pid;
      m.expectExit = true;
      if (m.state === 'paused') process.kill(pid, 'SIGCONT');
      m.sentSignal = 'SIGTERM';
      process.kill(pid, 'SIGTERM');
      const grace = setTimeout(() => {
        m.sentSignal = 'SIGKILL';
        if (alive(pid)) process.kill(pid, 'SIGKILL');
      }, this.stopGraceMs);
      await m.exited;
      clearTimeout(grace);
    }
    m.state = 'stopped';
  }

  private spawn(m: Managed): void {
    const { spec } = m;
    if (spec.pidFile) return this.spawnExternal(m);
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    m.child = child;
    m.state = 'running';
    m.startedAt = Date.now();
    m.expectExit = false;
    for (const stream of [child.stdout, child.stderr])
      createInterface({ input: stream! }).on('line', (line) => this.output(spec.name, line));
    m.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.onExit(m, child, code, signal);
        resolve();
      });
    });
    child.once('error', (error) => {
      this.log('error', `${spec.name} could not be started: ${error.message}`, { process: spec.name });
    });
    this.log('info', `started ${spec.name}`, { process: spec.name, pid: child.pid, port: spec.port });
  }

  private onExit(m: Managed, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (m.child !== child) return;
    m.child = null;
    this.exitedWith(m, signal ? `signal ${signal}` : `code ${code}`);
  }

  /** A process ended: stopped as asked, or a crash that is restarted after its back-off. */
  private exitedWith(m: Managed, lastExit: string): void {
    m.lastExit = lastExit;
    if (m.expectExit || this.shuttingDown) {
      m.state = 'stopped';
      this.log('info', `${m.spec.name} stopped (${m.lastExit})`, { process: m.spec.name });
      return;
    }
    if (Date.now() - m.startedAt >= this.backoff.stableMs) m.consecutiveCrashes = 0;
    m.consecutiveCrashes += 1;
    m.restarts += 1;
    const delay = restartDelay(m.consecutiveCrashes, this.backoff);
    m.state = 'backoff';
    m.restartAt = Date.now() + delay;
    this.log('warn', `${m.spec.name} exited (${m.lastExit}); restart #${m.restarts} in ${delay} ms`, {
      process: m.spec.name,
      exit: m.lastExit,
      restarts: m.restarts,
      delayMs: delay,
    });
    m.restartTimer = setTimeout(() => {
      m.restartTimer = null;
      m.restartAt = null;
      if (m.state === 'backoff' && !this.shuttingDown) this.spawn(m);
    }, delay);
  }

  private clearRestart(m: Managed): void {
    if (m.restartTimer) clearTimeout(m.restartTimer);
    m.restartTimer = null;
    m.restartAt = null;
  }

  private get(name: string): Managed {
    const m = this.processes.get(name);
    if (!m) throw new UnknownProcess(name, [...this.processes.keys()]);
    return m;
  }

  private info(m: Managed): ProcessInfo {
    return this.list().find((p) => p.name === m.spec.name)!;
  }
}

/** The control surface answers 404 with this. */
export class UnknownProcess extends Error {
  constructor(name: string, known: string[]) {
    super(`no process named ${name} (known: ${known.join(', ')})`);
  }
}

/** The control surface answers 409 with this. */
export class ProcessNotRunning extends Error {
  constructor(name: string, state: ProcessState) {
    super(`${name} is ${state}, not running`);
  }
}

function readPid(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Whether a process we are not the parent of still runs. A killed one may linger as a zombie until
 * its parent (init, here) reaps it: signal 0 would still reach it, /proc says Z.
 */
function alive(pid: number): boolean {
  try {
    if (process.platform !== 'linux') {
      process.kill(pid, 0);
      return true;
    }
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
