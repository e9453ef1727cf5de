import { Controller, Get, HttpStatus, Inject, Injectable, Res, type OnModuleDestroy } from '@nestjs/common';
import type { ServiceConfig } from '@order-saga/config';
import { createKafka } from '@order-saga/outbox';
import type { Admin } from 'kafkajs';
import { OutboxRelayService } from './outbox-relay.service.js';
import { CONFIG, PRISMA, type PrismaLike } from './tokens.js';

type Probe = () => Promise<Record<string, unknown>> | Record<string, unknown>;

/** Where a service adds its own figures to `/health` (e.g. the order service's load bounds). */
@Injectable()
export class HealthRegistry {
  private readonly probes = new Map<string, Probe>();

  register(name: string, probe: Probe): void {
    this.probes.set(name, probe);
  }

  async collect(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const [name, probe] of this.probes) out[name] = await probe();
    return out;
  }
}

/** One dependency's answer to a readiness probe. */
export interface Check {
  ok: boolean;
  /** Why it is not ok, in words an operator can act on. */
  error?: string;
  ms?: number;
}

// A probe must answer before the orchestrator's own probe timeout (compose: 3 s).
const CHECK_TIMEOUT_MS = 2_000;

async function check(work: () => Promise<unknown>): Promise<Check> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (error) {
    return { ok: false, error: (error as Error).message, ms: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What readiness depends on: the service's database, the Kafka cluster, and the outbox relay
 * loop (leader or standby). The admin client is kept connected between probes.
 */
@Injectable()
export class ReadinessChecks implements OnModuleDestroy {
  private admin?: Admin;

  constructor(
    @Inject(CONFIG) private readonly config: ServiceConfig,
    @Inject(PRISMA) private readonly prisma: PrismaLike,
    private readonly relay: OutboxRelayService,
  ) {}

  async run(): Promise<Record<string, Check>> {
    const [database, kafka] = await Promise.all([
      check(() => this.prisma.$queryRawUnsafe('SELECT 1')),
      check(() => this.kafkaAdmin().then((admin) => admin.describeCluster())),
    ]);
    const relay: Check = this.relay.isRunning
      ? { ok: true }
      : { ok: false, error: 'the outbox relay loop is not running' };
    return { database, kafka, relay };
  }

  private async kafkaAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = createKafka({
        clientId: `${this.config.serviceName}-health`,
        brokers: this.config.kafkaBrokers,
        // A probe answers in seconds; kafkajs' default retries would outlast it.
        retry: { retries: 0 },
        connectionTimeout: CHECK_TIMEOUT_MS,
      }).admin();
      await admin.connect();
      this.admin = admin;
    }
    return this.admin.describeCluster().then(
      () => this.admin!,
      async (error: unknown) => {
        // Reconnect on the next probe rather than keep a client that lost the cluster.
        const admin = this.admin;
        this.admin = undefined;
        await admin?.disconnect().catch(() => undefined);
        throw error;
      },
    );
  }

  async onModuleDestroy(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
  }
}

interface StatusResponse {
  status(code: number): unknown;
}

@Controller('health')
export class HealthController {
  constructor(
    @Inject(CONFIG) private readonly config: ServiceConfig,
    @Inject(PRISMA) private readonly prisma: PrismaLike,
    private readonly relay: OutboxRelayService,
    private readonly registry: HealthRegistry,
    private readonly readiness: ReadinessChecks,
  ) {}

  /** Liveness plus the messaging figures an operator looks at first. */
  @Get()
  async health(): Promise<Record<string, unknown>> {
    const rows = await this.prisma.$queryRawUnsafe<{ n: bigint }[]>(
      'SELECT count(*) AS n FROM outbox WHERE published_at IS NULL',
    );
    return {
      status: 'ok',
      service: this.config.serviceName,
      // Which process answered: a harness or supervisor that started the service on a port can
      // tell its own process from another one holding that port.
      pid: process.pid,
      outbox: {
        unpublished: Number(rows[0]?.n ?? 0),
        relayLeader: this.relay.isLeader,
        published: this.relay.published,
      },
      ...(await this.registry.collect()),
    };
  }

  /** The process answers: nothing else is checked, so a database outage never restarts it. */
  @Get('live')
  live(): { status: 'ok'; service: string } {
    return { status: 'ok', service: this.config.serviceName };
  }

  /**
   * Ready to do its work: database and Kafka reachable, relay loop running. 503 names the part that
   * is not, so an orchestrator stops routing to it and an operator knows where to look.
   */
  @Get('ready')
  async ready(@Res({ passthrough: true }) response: StatusResponse): Promise<Record<string, unknown>> {
    const checks = await this.readiness.run();
    const failing = Object.entries(checks)
      .filter(([, c]) => !c.ok)
      .map(([name]) => name);
    if (failing.length > 0) response.status(HttpStatus.SERVICE_UNAVAILABLE);
    return {
      status: failing.length > 0 ? 'unavailable' : 'ok',
      service: this.config.serviceName,
      ...(failing.length > 0 ? { failing } : {}),
      checks,
    };
  }
}
