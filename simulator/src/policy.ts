import { loadConfig } from '@order-saga/config';
import type { SagaPolicy } from '@order-saga/order/saga';
import { sagaPolicyFrom } from '@order-saga/order/saga-policy';

/**
 * The saga policy the order service runs with when nothing is configured: read through the same
 * config schema and mapping the service uses, so the simulation follows the defaults when they
 * change. The connection settings are placeholders the simulation never uses.
 */
export const defaultPolicy: SagaPolicy = sagaPolicyFrom(
  loadConfig({
    SERVICE_NAME: 'order',
    DATABASE_URL: 'postgresql://simulator@localhost/simulator',
    KAFKA_BROKERS: 'simulator:9092',
  }),
);
