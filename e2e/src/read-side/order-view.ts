import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createScratchDatabase, type ScratchDatabase } from '@order-saga/database';
import { freePort, TestProcess, testInfra, waitFor } from '@order-saga/testing';
import pg from 'pg';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));


export interface Answer<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** What `/health` says about one projection. */
export interface ProjectionHealth {
  name: string;
  state: string;
  generation: number | null;
  lagMessages: number | null;
  rebuildableFromStart: boolean | null;
  retention: {
    topic: string;
    partition: number;
    position: number;
    earliestRetained: number;
    headroomMessages: number;
    retentionMs: number | null;
  }[];
}

/**
 * The read side for one suite: a scratch view database and `apps/order-view` as a real process
 * on the topics of `prefix` (a SagaSystem's, or another one an exported slice was imported into).
 */
export class OrderView {
  process!: TestProcess;
  readonly pool: pg.Pool;

  private constructor(
    readonly name: string,
    readonly prefix: string,
    readonly db: ScratchDatabase,
    readonly port: number,
  ) {
    this.pool = new pg.Pool({ connectionString: db.url, max: 2 });
    this.pool.on('error', () => undefined);
  }

  static async start(name: string, prefix: string): Promise<OrderView> {
    const db = await createScratchDatabase({
      adminUrl: testInfra().adminDatabaseUrl,
      prefix: `t_${name.replace(/\W/g, '_')}_view`,
      schemaPath: `${repoRoot}/prisma/order-view/schema.prisma`,
      migrationsDir: `${repoRoot}/prisma/order-view/migrations`,
    });
    const view = new OrderView(name, prefix, db, await freePort());
    await view.startProcess();
    return view;
  }

  get env(): Record<string, string> {
    return {
      SERVICE_NAME: 'order-view',
      // As ./scripts/start runs it: the read side creates a table per projection generation, so
      // it connects as its database's migrator (libs/database prints that URL for read sides).
      DATABASE_URL: this.db.migratorUrl,
      KAFKA_BROKERS: testInfra().kafkaBrokers.join(','),
      KAFKA_TOPIC_PREFIX: this.prefix,
      HTTP_PORT: String(this.port),
      LOG_LEVEL: 'info',
    };
  }

  async startProcess(): Promise<void> {
    this.process = new TestProcess('order-view', `${repoRoot}/apps/order-view/dist/main.js`, this.env, {
      // As ./scripts/start runs it: traces and /metrics come from the telemetry register hook.
      nodeArgs: ['--import', `${repoRoot}/libs/telemetry/dist/register.js`],
      cwd: `${repoRoot}/apps/order-view`,
    }).start();
    await waitFor(async () => (await fetch(`${this.url}/health`).catch(() => null))?.ok === true, {
      timeoutMs: Number(process.env.E2E_SERVICE_START_TIMEOUT_MS ?? 240_000),
      intervalMs: 200,
      message: () => `order-view did not become healthy:\n${this.process.logs.slice(-4000)}`,
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async get<T>(path: string): Promise<Answer<T>> {
    const response = await fetch(`${this.url}${path}`);
    return { status: response.status, headers: response.headers, body: (await response.json()) as T };
  }

  async health(): Promise<ProjectionHealth> {
    return (await this.get<{ projections: ProjectionHealth[] }>('/health')).body.projections[0]!;
  }

  /** Waits until the live projection has applied every message published so far. */
  async caughtUp(timeoutMs = 120_000): Promise<void> {
    let last: ProjectionHealth | undefined;
    await waitFor(
      async () => {
        last = await this.health();
        return last.state === 'live' && last.lagMessages === 0;
      },
      {
        timeoutMs,
        intervalMs: 250,
        message: () => `order-view not caught up: ${JSON.stringify(last)}\n${this.process.logs.slice(-3000)}`,
      },
    );
  }

  /** Starts `pnpm projections <args>` against this read side. */
  cli(args: string[]): CliRun {
    return new CliRun(`${repoRoot}/apps/order-view/dist/cli/projections.cli.js`, args, this.env);
  }

  /** The whole read model, by query: one row per placed order, ordered by id. */
  async readModel(): Promise<{ key: string; doc: unknown }[]> {
    return (
      await this.pool.query<{ key: string; doc: unknown }>('SELECT key, doc FROM order_summary ORDER BY key')
    ).rows;
  }

  async stop(): Promise<void> {
    await this.process?.stop();
    await this.pool.end();
    await this.db.drop();
  }
}

/** A CLI run: its output so far, its exit, and a way to crash it. */
export class CliRun {
  private readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;

  constructor(script: string, args: string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, [script, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const append = (chunk: Buffer) => (this.output += chunk.toString());
    this.child.stdout!.on('data', append);
    this.child.stderr!.on('data', append);
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  async done(timeoutMs = 180_000): Promise<{ code: number | null; output: string }> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return { code, output: this.output };
  }

  /** SIGKILL: no clean-up, like an OOM kill or a pulled plug. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
