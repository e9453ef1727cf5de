import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

/** A drill as `pnpm drill list --json` names it. */
export interface DrillInfo {
  name: string;
  summary: string;
}

/** One run of a drill started from the console, as the page shows it while it runs and after. */
export interface DrillRun {
  id: string;
  drill: string;
  quick: boolean;
  startedAt: string;
  endedAt: string | null;
  /** `error`: the drill CLI ended without a report (it could not start its system, or was killed). */
  state: 'running' | 'passed' | 'failed' | 'error';
  placed: number;
  orders: number | null;
  /** The drill's own progress lines and anything it wrote to stderr, the last {@link LOG_LINES}. */
  log: string[];
  /** The drill's report (`DrillReport` of e2e/src/drills), as the CLI printed it. */
  report: unknown;
  exitCode: number | null;
}

const LOG_LINES = 200;

/** A drill is already running: the caller answers 409. */
export class DrillBusy extends Error {}
/** No drill of that name: the caller answers 404. */
export class UnknownDrill extends Error {}

/**
 * Runs the failure drills of `pnpm drill` as a child process of the console, one at a time, and
 * follows them through the CLI's `--events` JSON lines. The console is an app and may not import
 * the drills (they live in e2e/ and start whole systems), so the CLI is its interface: the same
 * code an operator runs in a terminal. Only a drill the CLI lists can be started, with fixed
 * arguments and no shell, so nothing the page sends reaches a command line.
 */
export class DrillRunner {
  private drills: Promise<DrillInfo[]> | undefined;
  private run: DrillRun | null = null;
  private child: ChildProcess | undefined;

  private readonly cli: string;
  private readonly cwd: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    options: {
      /** The built drill CLI (e2e/dist/drills/drill.cli.js); absent in an image built without e2e. */
      cli: string;
      cwd?: string;
      /** The drill's whole environment: the console's own (its port, prefix, token) must not reach the drill's services. */
      env: NodeJS.ProcessEnv;
    },
    private readonly onChange: (run: DrillRun) => void,
  ) {
    this.cli = options.cli;
    this.cwd = options.cwd ?? process.cwd();
    this.env = options.env;
  }

  get available(): boolean {
    return existsSync(this.cli);
  }

  /** The drills the CLI knows, asked once. */
  list(): Promise<DrillInfo[]> {
    this.drills ??= promisify(execFile)(process.execPath, [this.cli, 'list', '--json'], { cwd: this.cwd, env: this.env, timeout: 30_000 })
      .then(({ stdout }) => JSON.parse(stdout) as DrillInfo[])
      .catch((error: unknown) => {
        this.drills = undefined;
        throw error;
      });
    return this.drills;
  }

  /** The running drill, or the last one that ran. */
  current(): DrillRun | null {
    return this.run;
  }

  /** Starts `name`; refuses while another drill runs. */
  async start(name: string, quick: boolean): Promise<DrillRun> {
    const known = await this.list();
    // Nothing is awaited from this check to `this.run = run`: two starts cannot both pass it.
    if (this.run?.state === 'running') throw new DrillBusy(`drill ${this.run.drill} is running since ${this.run.startedAt}`);
    if (!known.some((d) => d.name === name)) throw new UnknownDrill(`no drill named ${name}`);
    const run: DrillRun = {
      id: randomUUID(),
      drill: name,
      quick,
      startedAt: new Date().toISOString(),
      endedAt: null,
      state: 'running',
      placed: 0,
      orders: null,
      log: [],
      report: null,
      exitCode: null,
    };
    this.run = run;
    // The CLI's own experimental warnings (Prisma's WebAssembly engine) are not the drill's output.
    const args = ['--enable-source-maps', '--disable-warning=ExperimentalWarning', this.cli, name, '--events', ...(quick ? ['--quick'] : [])];
    const child = spawn(process.execPath, args, { cwd: this.cwd, env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const changed = () => this.onChange({ ...run, log: [...run.log] });
    const note = (line: string) => {
      run.log.push(line);
      if (run.log.length > LOG_LINES) run.log.splice(0, run.log.length - LOG_LINES);
    };
    const finish = (code: number | null) => {
      if (run.state !== 'running') return;
      run.exitCode = code;
      run.endedAt = new Date().toISOString();
      const pass = (run.report as { pass?: unknown } | null)?.pass;
      run.state = run.report === null ? 'error' : pass === true && code === 0 ? 'passed' : 'failed';
      this.child = undefined;
      changed();
    };
    createInterface({ input: child.stdout! }).on('line', (line) => {
      applyEvent(run, line, note);
      changed();
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      note(line);
      changed();
    });
    child.on('error', (error) => {
      note(`could not start the drill: ${error.message}`);
      finish(null);
    });
    child.on('close', (code) => finish(code));
    changed();
    return { ...run, log: [...run.log] };
  }

  /**
   * Ends a running drill with the console: SIGINT, as Ctrl-C in a terminal would (the drill's
   * scratch system is then left as a Ctrl-C leaves it).
   */
  stop(): void {
    this.child?.kill('SIGINT');
  }
}

/** Applies one line of the CLI's `--events` output; any other line is kept as a log line. */
export function applyEvent(run: DrillRun, line: string, note: (line: string) => void): void {
  let event: { event?: unknown; line?: unknown; placed?: unknown; orders?: unknown; report?: unknown };
  try {
    event = JSON.parse(line) as typeof event;
  } catch {
    return note(line);
  }
  switch (event.event) {
    case 'start':
      if (typeof event.orders === 'number') run.orders = event.orders;
      return;
    case 'log':
      return note(String(event.line));
    case 'progress':
      if (typeof event.placed === 'number') run.placed = event.placed;
      if (typeof event.orders === 'number') run.orders = event.orders;
      return;
    case 'report':
      run.report = event.report ?? null;
      return;
    default:
      return note(line);
  }
}

/** What a drill needs from the console's environment: the tools and where Kafka and PostgreSQL are. */
const INHERITED = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ', 'ORDER_SAGA_TEST_INFRA', 'DATABASE_ADMIN_URL', 'TEST_DATABASE_ADMIN_URL', 'E2E_SERVICE_START_TIMEOUT_MS'];

/** The environment of a drill started by the console on the console's broker. */
export function drillEnvironment(kafkaBrokers: readonly string[], env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const picked: NodeJS.ProcessEnv = { TEST_KAFKA_BROKERS: kafkaBrokers.join(',') };
  for (const name of INHERITED) if (env[name] !== undefined) picked[name] = env[name];
  return picked;
}
