import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerCommand, WorkerConfig, WorkerReport } from './worker-protocol.js';

const script = fileURLToPath(new URL('./bench-worker.main.js', import.meta.url));

/** The parent's handle on one child of the benchmark: what it has received so far, and how to stop it. */
export class BenchWorker {
  /** Message id → receive time (µs), for `report: 'each'`. */
  readonly seen = new Map<string, number>();
  count = 0;
  firstCount = 0;
  firstAt = 0;
  lastAt = 0;
  private exited = false;
  private readonly exit: Promise<number | null>;

  private constructor(
    private readonly name: string,
    private readonly child: ChildProcess,
  ) {
    this.exit = new Promise((resolve) =>
      child.once('exit', (code) => {
        this.exited = true;
        resolve(code);
      }),
    );
    child.on('message', (report: WorkerReport) => {
      if (report.kind === 'seen') report.ids.forEach((id, i) => this.seen.set(id, report.at[i]!));
      if (report.kind === 'count') {
        this.count = report.count;
        this.firstCount = report.firstCount;
        this.firstAt = report.firstAt;
        this.lastAt = report.lastAt;
      }
    });
  }

  /** Forks the worker and resolves once it is ready (relay: leader; raw consumer: joined its group). */
  static async start(name: string, config: WorkerConfig, timeoutMs = 60_000): Promise<BenchWorker> {
    const child = fork(script, [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const worker = new BenchWorker(name, child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} not ready after ${timeoutMs} ms`)), timeoutMs);
      child.on('message', (report: WorkerReport) => {
        if (report.kind !== 'ready') return;
        clearTimeout(timer);
        resolve();
      });
      void worker.exit.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited with ${code} before it was ready`));
      });
    }).catch(async (error: unknown) => {
      await worker.kill();
      throw error;
    });
    return worker;
  }

  /** Messages per second from the first report to the last (start-up and the first fetch left out). */
  get rate(): number {
    return (this.count - this.firstCount) / ((this.lastAt - this.firstAt) / 1e6);
  }

  /** Waits until `done()` holds, polling; fails after the timeout or if the worker died. */
  async until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (this.exited) throw new Error(`${this.name} exited while waiting for ${what}`);
      if (Date.now() > deadline)
        throw new Error(`${this.name}: ${what} not reached after ${timeoutMs} ms (count ${this.count})`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Asks the worker to stop cleanly (leaves its group, releases the leader lock); kills it after 20 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.send({ kind: 'stop' } satisfies WorkerCommand);
    const timer = setTimeout(() => void this.kill(), 20_000);
    await this.exit;
    clearTimeout(timer);
  }

  async kill(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGKILL');
    await this.exit;
  }
}
