import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { ServiceConfig } from '@order-saga/config';
import { OutboxRelay, createKafka, holdAfterSend } from '@order-saga/outbox';
import { CONFIG } from './tokens.js';

/**
 * Runs the outbox relay inside the service process. Every replica runs one; the advisory-lock
 * election lets exactly one publish per database, and a standby takes over when it dies.
 * With `OUTBOX_RELAY=debezium` it runs nothing: Kafka Connect publishes from the WAL, and rows
 * are deleted as they are written, so there is nothing here to publish, park or purge.
 */
@Injectable()
export class OutboxRelayService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('OutboxRelay');
  private readonly relay?: OutboxRelay;

  constructor(@Inject(CONFIG) config: ServiceConfig) {
    if (config.outboxRelay === 'debezium') return;
    const log = (level: 'log' | 'warn' | 'error') => (obj: object, msg?: string) =>
      this.logger[level]({ msg, ...obj });
    const logger = { info: log('log'), warn: log('warn'), error: log('error') };
    this.relay = new OutboxRelay({
      databaseUrl: config.databaseUrl,
      kafka: createKafka({ clientId: `${config.serviceName}-relay`, brokers: config.kafkaBrokers }),
      batchSize: config.outboxRelayBatchSize,
      compression: config.outboxRelayCompression,
      pollIntervalMs: config.outboxRelayPollIntervalMs,
      maxBatchBytes: config.outboxRelayMaxBatchBytes,
      leaderSessionTimeoutMs: config.outboxRelaySessionTimeoutMs,
      retentionHours: config.outboxRetentionHours,
      purgeIntervalMs: config.purgeIntervalMs,
      purgeBatchSize: config.purgeBatchSize,
      topicRetentionHours: config.kafkaTopicRetentionHours,
      topicReplicationFactor: config.kafkaTopicReplicationFactor,
      logger,
      // A failure drill's hook (relay-crash); without the variable the relay has no afterSend at all.
      afterSend: config.outboxRelayFaultHoldAfterSend
        ? holdAfterSend(config.outboxRelayFaultHoldAfterSend, { logger })
        : undefined,
    });
  }

  get isLeader(): boolean {
    return this.relay?.isLeader ?? false;
  }

  /**
   * Whether the relay loop runs (as leader or standby): readiness depends on it. True when the
   * relay is external (Debezium), whose health Kafka Connect reports, not this service.
   */
  get isRunning(): boolean {
    return this.relay?.isRunning ?? true;
  }

  get published(): number {
    return this.relay?.publishedCount ?? 0;
  }

  onApplicationBootstrap(): void {
    this.relay?.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.relay?.stop();
  }
}
