import { Global, Logger, Module, type DynamicModule, type Provider } from '@nestjs/common';
import { ConfigError, loadConfig, type ServiceConfig } from '@order-saga/config';
import { KafkaInboxTransport, holdAfterCommit, pgTransaction, type PgTx } from '@order-saga/consumer';
import { Outbox, createKafka } from '@order-saga/outbox';
import { LoggingModule } from '@order-saga/telemetry';
import type pg from 'pg';
import { BrokerMonitorService } from './broker-monitor/broker-monitor.service.js';
import { DebeziumSlotMetrics } from './debezium-slot-metrics.js';
import { HealthController, HealthRegistry, ReadinessChecks } from './health.js';
import { MetricsController } from './metrics.controller.js';
import { OutboxMetrics } from './outbox-metrics.js';
import { OutboxRelayService } from './outbox-relay.service.js';
import { RetentionPurgeService } from './retention-purge.service.js';
import { DatabasePoolCloser, PG_POOL, Transactions, createServicePool } from './database-pool.js';
import { CONFIG, PRISMA, type PrismaLike } from './tokens.js';

export interface ServicePlatformOptions {
  /** The service's Prisma client class (an `@Injectable()` provider of the app). */
  prisma: (Provider & { provide?: unknown }) | (new (...args: never[]) => PrismaLike);
  /**
   * Computes the cluster's consumer lag, retention headroom and skew from the broker. One service
   * per system does it (the order service).
   */
  brokerMonitor?: boolean;
  /**
   * Longest a handler transaction may stay open (the consumer's default, 8 s, when not set). The
   * consumer refuses one that is not shorter than its session timeout (10 s).
   */
  transactionTimeoutMs?: number;
}

/**
 * Everything a service needs around its domain code, in one import: validated configuration,
 * JSON logs with trace and correlation ids, the outbox (enqueue + relay), the inbox transport for
 * its message handlers, the purge of expired rows, and `/health`.
 */
@Global()
@Module({})
export class ServicePlatformModule {
  static forRoot(options: ServicePlatformOptions): DynamicModule {
    const config = loadOrExit();
    const prismaClass = options.prisma as new (...args: never[]) => PrismaLike;
    return {
      module: ServicePlatformModule,
      imports: [
        LoggingModule.forRoot({
          service: config.serviceName,
          level: config.logLevel,
          format: config.logFormat,
        }),
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: PG_POOL, useFactory: () => createServicePool(config) },
        DatabasePoolCloser,
        Transactions,
        prismaClass,
        { provide: PRISMA, useExisting: prismaClass },
        {
          provide: Outbox,
          useValue: new Outbox({
            topicPrefix: config.kafkaTopicPrefix,
            deleteAfterInsert: config.outboxRelay === 'debezium',
          }),
        },
        OutboxRelayService,
        RetentionPurgeService,
        HealthRegistry,
        ReadinessChecks,
        OutboxMetrics,
        ...(config.outboxRelay === 'debezium' ? [DebeziumSlotMetrics] : []),
        ...(options.brokerMonitor ? [BrokerMonitorService] : []),
        {
          provide: KafkaInboxTransport,
          inject: [CONFIG, PG_POOL],
          useFactory: (cfg: ServiceConfig, pool: pg.Pool) => {
            return new KafkaInboxTransport<PgTx>({
              consumerName: cfg.serviceName,
              kafka: createKafka({ clientId: `${cfg.serviceName}-consumer`, brokers: cfg.kafkaBrokers }),
              topicPrefix: cfg.kafkaTopicPrefix,
              topicRetentionHours: cfg.kafkaTopicRetentionHours,
              topicReplicationFactor: cfg.kafkaTopicReplicationFactor,
              // The transport chooses the timeout and checks it against the session timeout.
              transactionTimeoutMs: options.transactionTimeoutMs,
              maxAttempts: cfg.consumerMaxAttempts,
              retryBackoffMs: cfg.consumerRetryBackoffMs,
              // node-postgres, not a Prisma interactive transaction: handlers are the hot path (see
              // pgTransaction). Their `ctx.tx` is a PgTx.
              transaction: pgTransaction(pool),
              // A failure drill's hook (consumer-crash); without the variable nothing runs there.
              afterCommit: cfg.consumerFaultHoldAfterCommit
                ? holdAfterCommit(cfg.consumerFaultHoldAfterCommit, {
                    logger: {
                      warn: (fields, msg) => new Logger(KafkaInboxTransport.name).warn({ msg, ...fields }),
                    },
                  })
                : undefined,
            });
          },
        },
      ],
      exports: [
        CONFIG,
        PG_POOL,
        Transactions,
        PRISMA,
        Outbox,
        HealthRegistry,
        KafkaInboxTransport,
        RetentionPurgeService,
        prismaClass,
      ],
    };
  }
}

/** A service with bad configuration stops at once with one line per variable, not a stack trace. */
function loadOrExit(): ServiceConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
}
