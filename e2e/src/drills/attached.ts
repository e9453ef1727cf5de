import { existsSync, readFileSync } from 'node:fs';
import { topicsFor } from '@order-saga/contracts';
import { createKafka } from '@order-saga/outbox';
import { waitFor } from '@order-saga/testing';
import pg from 'pg';
import type { PublishedEvent } from '../saga/effects.js';
import {
  orderAt,
  placeAt,
  placeOrderAt,
  readEvents,
  services,
  type OrderView,
  type PlaceOrderBody,
  type Service,
} from '../saga/system.js';
import type { DrillSystem } from './drill.js';

/** A row of the supervisor's `GET /processes` (supervisor/src/supervisor.ts `ProcessInfo`). */
interface SupervisedProcess {
  name: string;
  pid: number | null;
  state: string;
  port: number | null;
}

/** What ./scripts/start wrote to `.run/supervisor.json`: each process's own environment. */
interface SupervisorConfig {
  processes: { name: string; env?: Record<string, string> }[];
}

/**
 * The system `./scripts/start` runs, for `pnpm drill <name> --attach`: faults go through its
 * supervisor's control surface (`POST /processes/<name>/kill|stop|start|pause|resume`, the
 * admin token from ADMIN_TOKEN or .run/admin-token, as `pnpm system` does), orders through the
 * order API, invariants read the services' databases with their runtime roles (URLs and password
 * file from .run/supervisor.json) and the topics (brokers and prefix from .run/services.env).
 *
 * The system keeps its history: events are read from the ends the topics had when the drill
 * attached, and the invariants compare against what the databases held before the load.
 */
export class AttachedSystem implements DrillSystem {
  readonly name = 'drill-attached';
  private readonly pools = new Map<Service, pg.Pool>();

  private constructor(
    readonly supervisorUrl: string,
    private readonly token: string,
    readonly api: string,
    readonly prefix: string,
    readonly kafkaBrokers: string[],
    private readonly ports: Map<Service, number>,
    private readonly databaseUrls: Map<Service, string>,
    /** `<service>.events` topic → partition → end offset when the drill attached. */
    private readonly from: Map<string, Map<number, number>>,
  ) {}

  /**
   * Attaches to the supervisor at `supervisorUrl`; `root` is the checkout ./scripts/start ran in
   * (its `.run/` folder). Fails with what is missing when the system is not there or not whole.
   */
  static async attach(supervisorUrl: string, root: string): Promise<AttachedSystem> {
    const response = await fetch(`${supervisorUrl}/processes`, { signal: AbortSignal.timeout(5000) }).catch(
      (error: unknown) => {
        throw new Error(
          `--attach: the supervisor does not answer at ${supervisorUrl} (is ./scripts/start running?): ${String(error)}`,
        );
      },
    );
    const processes = (await response.json()) as SupervisedProcess[];
    const run = `${root}.run`;
    const missing = services.filter((s) => !processes.some((p) => p.name === s && p.state === 'running'));
    if (missing.length > 0)
      throw new Error(
        `--attach: ${missing.join(', ')} not running under the supervisor at ${supervisorUrl} (pnpm system ps)`,
      );
    const config = JSON.parse(readFileSync(`${run}/supervisor.json`, 'utf8')) as SupervisorConfig;
    const shared = readEnvFile(`${run}/services.env`);
    const token = process.env.ADMIN_TOKEN ?? readIfExists(`${run}/admin-token`);
    if (!token)
      throw new Error(
        `--attach: no admin token: set ADMIN_TOKEN (./scripts/start writes one to ${run}/admin-token)`,
      );
    const ports = new Map<Service, number>();
    const databaseUrls = new Map<Service, string>();
    for (const service of services) {
      ports.set(service, processes.find((p) => p.name === service)!.port!);
      const env = config.processes.find((p) => p.name === service)?.env ?? {};
      if (!env.DATABASE_URL)
        throw new Error(`--attach: ${run}/supervisor.json names no DATABASE_URL for ${service}`);
      databaseUrls.set(service, env.DATABASE_URL);
      // The URLs carry no password: node-postgres reads the roles' from this file, as the services do.
      if (env.PGPASSFILE) process.env.PGPASSFILE ??= env.PGPASSFILE;
    }
    const prefix = shared.KAFKA_TOPIC_PREFIX ?? '';
    const brokers = (shared.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
    const from = new Map<string, Map<number, number>>();
    const admin = createKafka({ clientId: 'drill-attached-offsets', brokers }).admin();
    await admin.connect();
    try {
      for (const service of ['inventory', 'payment', 'shipping'] as const) {
        const topic = topicsFor(prefix)[service].events;
        const offsets = await admin.fetchTopicOffsets(topic).catch(() => []);
        from.set(topic, new Map(offsets.map((p) => [p.partition, Number(p.high)])));
      }
    } finally {
      await admin.disconnect();
    }
    return new AttachedSystem(
      supervisorUrl,
      token,
      `http://127.0.0.1:${ports.get('order')}`,
      prefix,
      brokers,
      ports,
      databaseUrls,
      from,
    );
  }

  /**
   * kill -9 through the supervisor, then stop: the supervisor would restart a killed process after
   * its back-off, and a drill decides itself when the service comes back.
   */
  async kill(service: Service): Promise<void> {
    await this.control(service, 'kill');
    await this.control(service, 'stop');
  }

  async restart(service: Service): Promise<void> {
    await this.control(service, 'start');
    const port = this.ports.get(service)!;
    await waitFor(
      async () =>
        (
          await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) }).catch(
            () => null,
          )
        )?.ok === true,
      {
        timeoutMs: Number(process.env.E2E_SERVICE_START_TIMEOUT_MS ?? 240_000),
        intervalMs: 200,
        message: () => `${service} did not answer http://127.0.0.1:${port}/health after its start`,
      },
    );
  }

  async stopService(service: Service): Promise<void> {
    await this.control(service, 'stop');
  }

  async pause(service: Service): Promise<void> {
    await this.control(service, 'pause');
  }

  async resume(service: Service): Promise<void> {
    await this.control(service, 'resume');
  }

  async query<T extends pg.QueryResultRow>(
    service: Service,
    sql: string,
    params: unknown[] = [],
  ): Promise<T[]> {
    let pool = this.pools.get(service);
    if (!pool) {
      pool = new pg.Pool({ connectionString: this.databaseUrls.get(service)!, max: 2 });
      pool.on('error', () => undefined);
      this.pools.set(service, pool);
    }
    return (await pool.query<T>(sql, params)).rows;
  }

  /** What the participant published on its events topic since the drill attached. */
  async events(
    service: Exclude<Service, 'order'>,
    timeoutMs = 30_000,
    skipInvalid = false,
  ): Promise<PublishedEvent[]> {
    const topic = topicsFor(this.prefix)[service].events;
    return readEvents(this.kafkaBrokers, topic, {
      clientId: `${this.name}-reader`,
      timeoutMs,
      skipInvalid,
      from: this.from.get(topic),
    });
  }

  placeOrder(body: unknown, key?: string): Promise<Response> {
    return placeOrderAt(this.api, body, key);
  }

  place(body: PlaceOrderBody, key?: string): Promise<string> {
    return placeAt(this.api, body, key);
  }

  order(orderId: string): Promise<OrderView> {
    return orderAt(this.api, orderId);
  }

  /** Closes the drill's database connections; the system itself runs on. */
  async detach(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.end()));
  }

  private async control(
    service: Service,
    action: 'kill' | 'stop' | 'start' | 'pause' | 'resume',
  ): Promise<void> {
    const response = await fetch(`${this.supervisorUrl}/processes/${service}/${action}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}` },
    });
    if (!response.ok)
      throw new Error(`supervisor: ${action} ${service} → ${response.status}: ${await response.text()}`);
  }
}

function readIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8').trim() || undefined : undefined;
}

/** `KEY=value` lines (what ./scripts/start writes to .run/services.env). */
function readEnvFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of (readIfExists(path) ?? '').split('\n')) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) env[match[1]!] = match[2]!;
  }
  return env;
}
