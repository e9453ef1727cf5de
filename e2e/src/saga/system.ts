import { fileURLToPath } from 'node:url';
import { fromKafkaMessage, topicsFor } from '@order-saga/contracts';
import { createScratchDatabase, type ScratchDatabase } from '@order-saga/database';
import { createKafka } from '@order-saga/outbox';
import { freePort, TestProcess, testInfra, uniqueTopicPrefix, waitFor } from '@order-saga/testing';
import pg from 'pg';
import { captureOutbox, relayMode, scratchAdminUrl } from '../debezium/cdc.js';
import type { PublishedEvent } from './effects.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
export const services = ['order', 'inventory', 'payment', 'shipping'] as const;
export type Service = (typeof services)[number];

export interface PlaceOrderBody {
  customerId: string;
  items: { sku: string; quantity: number }[];
  shippingAddress: { country: string; city: string; line1: string };
}

export const anOrder = (overrides: Partial<PlaceOrderBody> = {}): PlaceOrderBody => ({
  customerId: 'alice',
  items: [{ sku: 'widget', quantity: 2 }],
  shippingAddress: { country: 'FR', city: 'Paris', line1: '1 rue de Rivoli' },
  ...overrides,
});

/**
 * The mixed load of the invariants suite, on the seed data: alice's happy orders, bob over his
 * credit, an unserved country (AQ: shipping refuses, the saga compensates), a race for the
 * `last-one` item, carol, and bigger widget orders.
 */
export function mixedOrder(i: number): PlaceOrderBody {
  switch (i % 6) {
    case 0:
      return anOrder({
        items: [
          { sku: 'widget', quantity: 1 + (i % 3) },
          { sku: 'gadget', quantity: 1 },
        ],
      });
    case 1:
      return anOrder({ customerId: 'bob', items: [{ sku: 'gadget', quantity: 1 + (i % 3) }] });
    case 2:
      return anOrder({ shippingAddress: { country: 'AQ', city: 'McMurdo', line1: 'Station' } });
    case 3:
      return anOrder({ items: [{ sku: 'last-one', quantity: 1 }] });
    case 4:
      return anOrder({ customerId: 'carol' });
    default:
      return anOrder({ items: [{ sku: 'widget', quantity: 5 }] });
  }
}

export interface OrderView {
  orderId: string;
  status: string;
  reason?: string;
  total: number;
  items: { sku: string; quantity: number; unitPrice: number }[];
  steps: { name: string; outcome: string; detail?: string; at: string }[];
}

export const terminal = ['CONFIRMED', 'REJECTED', 'CANCELLED', 'COMPENSATION_FAILED'];

/** Another process holds the port a service was given. */
class PortTaken extends Error {
  constructor(name: string, port: number) {
    super(`port ${port} of ${name} is held by another process`);
  }
}

/** POST /orders on the order API at `api`, with an idempotency key of its own unless given. */
export async function placeOrderAt(
  api: string,
  body: unknown,
  key: string = crypto.randomUUID(),
): Promise<Response> {
  return fetch(`${api}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
  });
}

/** Places an order and returns its id (throws on anything but 202). */
export async function placeAt(api: string, body: PlaceOrderBody, key?: string): Promise<string> {
  const response = await placeOrderAt(api, body, key);
  if (response.status !== 202)
    throw new Error(`POST /orders answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { orderId: string }).orderId;
}

/** GET /orders/:id on the order API at `api`. */
export async function orderAt(api: string, orderId: string): Promise<OrderView> {
  const response = await fetch(`${api}/orders/${orderId}`);
  if (!response.ok) throw new Error(`GET /orders/${orderId} answered ${response.status}`);
  return (await response.json()) as OrderView;
}

/**
 * The whole system for one suite: four scratch databases (migrated and seeded like the real ones),
 * topics of its own, and the four services as real processes that tests can kill and restart.
 */
export class SagaSystem {
  readonly processes = new Map<Service, TestProcess>();
  readonly databases = new Map<Service, ScratchDatabase>();
  readonly ports = new Map<Service, number>();
  /** Second instances of each service (`replicas: 2`), on the same database and topics. */
  readonly replicas = new Map<Service, { process: TestProcess; port: number }>();
  readonly prefix: string;
  private readonly pools = new Map<Service, pg.Pool>();
  /** Stops Debezium's capture of each database (Debezium mode only). */
  private readonly captures: (() => Promise<void>)[] = [];

  /** The brokers the services and the checks use: the shared test broker, or a drill's own cluster. */
  readonly kafkaBrokers: string[];

  private constructor(
    readonly name: string,
    private readonly env: Record<string, string>,
    private readonly serviceEnv: Partial<Record<Service, Record<string, string>>> = {},
    kafkaBrokers: string[] = testInfra().kafkaBrokers,
  ) {
    this.prefix = uniqueTopicPrefix(name);
    this.kafkaBrokers = kafkaBrokers;
  }

  /**
   * Starts everything; `env` overrides service settings (e.g. a short SAGA_STEP_TIMEOUT_MS). In
   * the Debezium project (`TEST_RELAY=debezium`) the databases live on the logical-decoding
   * cluster, each outbox is captured by a Debezium connector, and the services run no relay.
   */
  static async start(
    name: string,
    env: Record<string, string> = {},
    options: {
      replicas?: 1 | 2;
      /** Settings for one service only (e.g. a drill's hook on payment), on top of `env`. */
      serviceEnv?: Partial<Record<Service, Record<string, string>>>;
      /** Settings of one instance only (instance 2 is the replica), e.g. a trace endpoint each. */
      instanceEnv?: (service: Service, instance: 1 | 2) => Record<string, string>;
      /** Another Kafka than the shared test broker (a drill's own cluster). */
      kafkaBrokers?: string[];
    } = {},
  ): Promise<SagaSystem> {
    const debezium = relayMode() === 'debezium';
    const system = new SagaSystem(
      name,
      debezium ? { OUTBOX_RELAY: 'debezium', ...env } : env,
      options.serviceEnv,
      options.kafkaBrokers,
    );
    const instanceEnv = options.instanceEnv ?? (() => ({}));
    // allSettled: whatever was created is known (and stopped) before a failure is thrown.
    const settle = async (work: Promise<unknown>[]) => {
      const failed = (await Promise.allSettled(work)).find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    };
    try {
      await settle(
        services.map(async (service) => {
          const db = await createScratchDatabase({
            adminUrl: scratchAdminUrl(),
            prefix: `t_${name.replace(/\W/g, '_')}_${service}`,
            schemaPath: `${repoRoot}/prisma/${service}/schema.prisma`,
            migrationsDir: `${repoRoot}/prisma/${service}/migrations`,
          });
          system.databases.set(service, db);
          if (debezium) system.captures.push(await captureOutbox(db.name));
          system.ports.set(service, await freePort());
        }),
      );
      await settle(services.map((service) => system.startService(service, instanceEnv(service, 1))));
      if (options.replicas === 2)
        await settle(services.map((service) => system.startReplica(service, instanceEnv(service, 2))));
    } catch (error) {
      // The suite never gets the system to stop: without this, a failed start leaves processes,
      // databases and their (cluster-wide) roles behind.
      await system.stop().catch(() => undefined);
      throw error;
    }
    return system;
  }

  get api(): string {
    return `http://127.0.0.1:${this.ports.get('order')}`;
  }

  /** Starts (or restarts) one service and waits until its /health answers. */
  async startService(service: Service, extraEnv: Record<string, string> = {}): Promise<TestProcess> {
    const { process, port } = await this.launchOnFreePort(
      service,
      service,
      this.ports.get(service)!,
      extraEnv,
    );
    this.ports.set(service, port);
    this.processes.set(service, process);
    return process;
  }

  /** Starts a second instance of a service on its own port: same database, topics and groups. */
  async startReplica(service: Service, extraEnv: Record<string, string> = {}): Promise<TestProcess> {
    const { process, port } = await this.launchOnFreePort(
      service,
      `${service}-2`,
      await freePort(),
      extraEnv,
    );
    this.replicas.set(service, { process, port });
    return process;
  }

  /**
   * Ports are only checked free before the service listens; another process can take one in
   * between. Then the service starts again on another port (callers read `ports` and `api`).
   */
  private async launchOnFreePort(
    service: Service,
    name: string,
    port: number,
    extraEnv: Record<string, string>,
  ): Promise<{ process: TestProcess; port: number }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return { process: await this.launch(service, name, port, extraEnv), port };
      } catch (error) {
        if (!(error instanceof PortTaken) || attempt === 3) throw error;
        port = await freePort();
      }
    }
  }

  /** Stops the second instance of a service: gracefully (it leaves its group) or by kill -9. */
  async stopReplica(service: Service, how: 'stop' | 'kill' = 'stop'): Promise<void> {
    const replica = this.replicas.get(service);
    if (!replica) return;
    await (how === 'kill' ? replica.process.kill('SIGKILL') : replica.process.stop());
    this.replicas.delete(service);
  }

  private async launch(
    service: Service,
    name: string,
    port: number,
    extraEnv: Record<string, string>,
  ): Promise<TestProcess> {
    const process = new TestProcess(
      name,
      `${repoRoot}/apps/${service}/dist/main.js`,
      {
        SERVICE_NAME: service,
        DATABASE_URL: this.databases.get(service)!.url,
        KAFKA_BROKERS: this.kafkaBrokers.join(','),
        KAFKA_TOPIC_PREFIX: this.prefix,
        HTTP_PORT: String(port),
        LOG_LEVEL: 'info',
        OUTBOX_RELAY_POLL_INTERVAL_MS: '500',
        ...this.env,
        ...this.serviceEnv[service],
        ...extraEnv,
      },
      {
        nodeArgs: ['--import', `${repoRoot}/libs/telemetry/dist/register.js`],
        cwd: `${repoRoot}/apps/${service}`,
      },
    ).start();
    await waitFor(
      async () => {
        // A process that died during start (e.g. EADDRINUSE) fails at once, and only our own
        // process's answer counts: another one may hold the port it was given.
        if (!process.running) {
          if (/EADDRINUSE/.test(process.logs)) throw new PortTaken(name, port);
          throw new Error(`${name} exited during start:\n${process.logs.slice(-4000)}`);
        }
        const response = await fetch(`http://127.0.0.1:${port}/health`).catch(() => null);
        if (!response?.ok) return false;
        const { pid } = (await response.json()) as { pid?: number };
        if (pid === process.pid) return true;
        await process.kill();
        throw new PortTaken(name, port);
      },
      {
        // Four services starting at once on two busy cores have been seen to need more than 60 s
        // (240 s at load 20); E2E_SERVICE_START_TIMEOUT_MS sets another bound.
        timeoutMs: Number(globalThis.process.env.E2E_SERVICE_START_TIMEOUT_MS ?? 240_000),
        intervalMs: 200,
        message: () => `${name} did not become healthy:\n${process.logs.slice(-4000)}`,
      },
    );
    return process;
  }

  /** kill -9: the service stays down until {@link restart}. */
  async kill(service: Service): Promise<void> {
    await this.processes.get(service)?.kill('SIGKILL');
  }

  /** Starts a service that was killed or stopped again, and waits until its /health answers. */
  async restart(service: Service): Promise<void> {
    await this.startService(service);
  }

  /** Stops a service gracefully (SIGTERM: it leaves its consumer groups); it stays down. */
  async stopService(service: Service): Promise<void> {
    await this.processes.get(service)?.stop();
  }

  /** SIGSTOP: the process is frozen, its sockets stay open. */
  async pause(service: Service): Promise<void> {
    process.kill(this.pidOf(service), 'SIGSTOP');
  }

  /** SIGCONT after {@link pause}. */
  async resume(service: Service): Promise<void> {
    process.kill(this.pidOf(service), 'SIGCONT');
  }

  /** The pid of a running service's process. */
  pidOf(service: Service): number {
    const pid = this.processes.get(service)?.pid;
    if (pid === undefined) throw new Error(`${service} is not running`);
    return pid;
  }

  /**
   * Every event a participant has published on its `<service>.events` topic so far, in partition
   * order, read from the start up to the end the topic has now. An undecodable message fails the
   * test (the services only ever publish valid ones) unless `skipInvalid`: a poison drill puts
   * some there on purpose.
   */
  async events(
    service: Exclude<Service, 'order'>,
    timeoutMs = 30_000,
    skipInvalid = false,
  ): Promise<PublishedEvent[]> {
    return readEvents(this.kafkaBrokers, topicsFor(this.prefix)[service].events, {
      clientId: `${this.name}-reader`,
      timeoutMs,
      skipInvalid,
    });
  }

  /** A read-only connection to a service's database, to check invariants (never to fake a step). */
  db(service: Service): pg.Pool {
    let pool = this.pools.get(service);
    if (!pool) {
      pool = new pg.Pool({ connectionString: this.databases.get(service)!.url, max: 2 });
      // Dropping the scratch database at the end terminates idle connections: expected.
      pool.on('error', () => undefined);
      this.pools.set(service, pool);
    }
    return pool;
  }

  async query<T extends pg.QueryResultRow>(
    service: Service,
    sql: string,
    params: unknown[] = [],
  ): Promise<T[]> {
    return (await this.db(service).query<T>(sql, params)).rows;
  }

  async placeOrder(body: unknown, key?: string): Promise<Response> {
    return placeOrderAt(this.api, body, key);
  }

  /** Places an order and returns its id (fails the test on anything but 202). */
  async place(body: PlaceOrderBody, key?: string): Promise<string> {
    return placeAt(this.api, body, key);
  }

  async order(orderId: string): Promise<OrderView> {
    return orderAt(this.api, orderId);
  }

  async waitForTerminal(orderId: string, timeoutMs = 60_000): Promise<OrderView> {
    let last: OrderView | undefined;
    await waitFor(
      async () => {
        last = await this.order(orderId).catch(() => undefined);
        return !!last && terminal.includes(last.status);
      },
      {
        timeoutMs,
        // Suites wait for hundreds of orders at once: every 100 ms each was load enough to slow
        // the system under test.
        intervalMs: 250,
        message: () => `order ${orderId} not terminal: ${JSON.stringify(last)}\n${this.tail()}`,
      },
    );
    return last!;
  }

  /** The end of every service's log, for failure messages. */
  tail(chars = 1500): string {
    return [...this.processes, ...[...this.replicas].map(([name, r]) => [`${name}-2`, r.process] as const)]
      .map(([name, p]) => `--- ${name}\n${p.logs.slice(-chars)}`)
      .join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.processes.values(), ...[...this.replicas.values()].map((r) => r.process)].map((p) => p.stop()),
    );
    await Promise.all([...this.pools.values()].map((p) => p.end()));
    await Promise.all(this.captures.map((release) => release()));
    await Promise.all([...this.databases.values()].map((db) => db.drop()));
  }
}

/**
 * Every event on `topic`, in partition order, from its start (or from `from`: partition → offset)
 * up to the end the topic has now. An undecodable message fails the read unless `skipInvalid`.
 */
export async function readEvents(
  brokers: string[],
  topic: string,
  options: {
    clientId: string;
    timeoutMs?: number;
    skipInvalid?: boolean;
    from?: ReadonlyMap<number, number>;
  },
): Promise<PublishedEvent[]> {
  const kafka = createKafka({ clientId: options.clientId, brokers });
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `${options.clientId}-${crypto.randomUUID()}`;
  let ends: Map<number, number>;
  try {
    ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
    // A group of its own that starts where the caller says (an attached system's history is not
    // the drill's): its committed offsets are where a new member begins.
    if (options.from)
      await admin.setOffsets({
        groupId,
        topic,
        partitions: [...ends.keys()].map((partition) => ({
          partition,
          offset: String(options.from!.get(partition) ?? 0),
        })),
      });
  } finally {
    await admin.disconnect();
  }
  const read = new Map<number, number>(options.from ?? []);
  const events: PublishedEvent[] = [];
  let invalid: string | undefined;
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) {
        const decoded = fromKafkaMessage(message);
        if (decoded.ok) {
          const { messageId, type, payload, causationId } = decoded.envelope;
          events.push({ messageId, type, payload: payload as Record<string, unknown>, causationId });
        } else if (!options.skipInvalid)
          invalid ??= `${topic} holds an invalid message: ${decoded.error.message}`;
        read.set(batch.partition, Number(message.offset) + 1);
      }
    },
  });
  try {
    await waitFor(
      () => {
        if (invalid) throw new Error(invalid);
        return [...ends].every(([partition, end]) => (read.get(partition) ?? 0) >= end);
      },
      {
        timeoutMs: options.timeoutMs ?? 30_000,
        intervalMs: 100,
        message: () => `${topic}: read ${JSON.stringify([...read])} of ${JSON.stringify([...ends])}`,
      },
    );
    return events;
  } finally {
    await consumer.disconnect();
  }
}
