import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { LiveProjection, type ProjectionStatus } from '@order-saga/projections';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import { CONFIG, type OrderViewConfig } from '../config.js';
import { projections } from '../projections.js';
import { KAFKA, PG_POOL } from './tokens.js';

/** Runs every projection of the service and tells how fresh each one is. */
@Injectable()
export class ProjectionsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Projections');
  private readonly live: Map<string, LiveProjection>;

  constructor(
    @Inject(CONFIG) config: OrderViewConfig,
    @Inject(PG_POOL) pool: pg.Pool,
    @Inject(KAFKA) kafka: Kafka,
  ) {
    const log = {
      info: (msg: string, fields: Record<string, unknown> = {}) => this.logger.log({ msg, ...fields }),
      error: (msg: string, fields: Record<string, unknown> = {}) => this.logger.error({ msg, ...fields }),
    };
    this.live = new Map(
      projections.map((projection) => [
        projection.name,
        new LiveProjection({ pool, kafka, projection, topicPrefix: config.kafkaTopicPrefix, log }),
      ]),
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const live of this.live.values()) await live.start();
  }

  async onApplicationShutdown(): Promise<void> {
    for (const live of this.live.values()) await live.stop();
  }

  status(name: string): ProjectionStatus {
    return this.live.get(name)!.status;
  }

  all(): ProjectionStatus[] {
    return [...this.live.values()].map((l) => l.status);
  }
}
