import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, RetentionPurgeService, type ServiceConfig } from '@order-saga/platform';

/**
 * Deletes idempotency keys past `IDEMPOTENCY_KEY_TTL_HOURS` (24 h by default, as payment APIs
 * do), through the platform's timed purge in bounded statements. The purge only reclaims space:
 * an expired key is already not honoured before it runs (`PlaceOrderHandler` takes it over, and
 * the request counts as a new one).
 */
@Injectable()
export class IdempotencyKeyPurge {
  constructor(purge: RetentionPurgeService, @Inject(CONFIG) config: ServiceConfig) {
    purge.register({
      name: 'idempotency_key',
      table: 'idempotency_key',
      key: 'key',
      where: `created_at < now() - make_interval(hours => ${config.idempotencyKeyTtlHours})`,
    });
  }
}
