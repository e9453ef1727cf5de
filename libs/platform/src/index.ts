export { ServicePlatformModule, type ServicePlatformOptions } from './messaging.module.js';
export { runService } from './run-service.js';
export { HealthRegistry } from './health.js';
export { OutboxRelayService } from './outbox-relay.service.js';
export { RetentionPurgeService, type PurgeJob } from './retention-purge.service.js';
export { CONFIG, PRISMA, type PrismaLike, type ServiceConfig } from './tokens.js';
export { AdminAccessRefused, AdminTokenGuard, type AdminProblem } from './admin-token.guard.js';
export {
  BrokerMonitor,
  type BrokerMonitorOptions,
  type BrokerSnapshot,
  type PartitionLag,
} from './broker-monitor/broker-monitor.js';
export { PG_POOL, Transactions, createServicePool } from './database-pool.js';
