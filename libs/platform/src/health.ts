import { Controller, Get, Inject, Injectable } from '@nestjs/common';
import type { ServiceConfig } from '@order-saga/config';
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

@Controller('health')
export class HealthController {
  constructor(
    @Inject(CONFIG) private readonly config: ServiceConfig,
    @Inject(PRISMA) private readonly prisma: PrismaLike,
    private readonly relay: OutboxRelayService,
    private readonly registry: HealthRegistry,
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
      outbox: {
        unpublished: Number(rows[0]?.n ?? 0),
        relayLeader: this.relay.isLeader,
        published: this.relay.published,
      },
      ...(await this.registry.collect()),
    };
  }
}
