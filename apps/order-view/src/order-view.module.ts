import { Module } from '@nestjs/common';
import { createKafka } from '@order-saga/outbox';
import { LoggingModule } from '@order-saga/telemetry';
import pg from 'pg';
import { CONFIG, loadOrderViewConfig, type OrderViewConfig } from './config.js';
import { GetOrderController } from './get-order/get-order.controller.js';
import { HealthController } from './health/health.controller.js';
import { FreshnessInterceptor } from './http/freshness.interceptor.js';
import { ProjectionsService } from './infra/projections.service.js';
import { KAFKA, PG_POOL } from './infra/tokens.js';
import { ListOrdersController } from './list-orders/list-orders.controller.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { RebuildMetrics } from './metrics/rebuild-metrics.js';
import { OrderSummaryQueries } from './order-summary/order-summary.queries.js';
import { StatsController } from './stats/stats.controller.js';

const config = loadOrExit();

/** The read side: projections of every service's messages, and the queries over them. */
@Module({
  imports: [LoggingModule.forRoot({ service: config.serviceName, level: config.logLevel })],
  controllers: [
    HealthController,
    ListOrdersController,
    GetOrderController,
    StatsController,
    MetricsController,
  ],
  providers: [
    { provide: CONFIG, useValue: config },
    {
      provide: PG_POOL,
      useFactory: (cfg: OrderViewConfig) => new pg.Pool({ connectionString: cfg.databaseUrl, max: 10 }),
      inject: [CONFIG],
    },
    {
      provide: KAFKA,
      useFactory: (cfg: OrderViewConfig) =>
        createKafka({ clientId: 'order-view', brokers: cfg.kafkaBrokers }),
      inject: [CONFIG],
    },
    ProjectionsService,
    OrderSummaryQueries,
    FreshnessInterceptor,
    RebuildMetrics,
  ],
})
export class OrderViewModule {}

/** Bad configuration stops the service at once with one line per variable, not a stack trace. */
function loadOrExit(): OrderViewConfig {
  try {
    return loadOrderViewConfig();
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
}
