import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A real child process a test starts, reads and kills (SIGKILL to simulate a crash). Its output is
 * kept so a failing test can show it.
 */
export class TestProcess {
  private child?: ChildProcess;
  private output = '';
  private exited?: Promise<number | null>;

  constructor(
    readonly name: string,
    private readonly script: string,
    private readonly env: Record<string, string>,
    private readonly options: { nodeArgs?: string[]; cwd?: string } = {},
  ) {}

  start(): this {
    this.output = '';
    const child = spawn(
      process.execPath,
      ['--enable-source-maps', ...(this.options.nodeArgs ?? []), this.script],
      {
        cwd: this.options.cwd,
        env: { ...process.env, ...this.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    const append = (chunk: Buffer) => {
      this.output += chunk.toString();
      if (this.output.length > 200_000) this.output = this.output.slice(-100_000);
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    return this;
  }

  get logs(): string {
    return this.output;
  }

  /** The child's pid while it runs, to send it signals that do not end it (SIGSTOP, SIGCONT). */
  get pid(): number | undefined {
    return this.running ? this.child!.pid : undefined;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves when a line matching `pattern` has been printed. */
  async waitForOutput(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
    await waitFor(() => pattern.test(this.output), {
      timeoutMs,
      message: () => `${this.name} never printed ${pattern}; output:\n${this.output.slice(-4000)}`,
    });
  }

  /** Kills the process without letting it clean up, like a crash or an OOM kill. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    this.child!.kill(signal);
    await this.exited;
  }

  /** Asks the process to stop (SIGTERM) and waits for it, killing it after the timeout. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Polls `condition` until it holds or the timeout passes. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  {
    timeoutMs = 30_000,
    intervalMs = 50,
    message,
  }: { timeoutMs?: number; intervalMs?: number; message?: () => string } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(message?.() ?? `condition not met within ${timeoutMs} ms`);
}
