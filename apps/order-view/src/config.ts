import { envVar, loadConfig, serviceEnv, type CamelCased } from '@order-saga/config';
import { z } from 'zod';

/**
 * The read side reads the shared variables it needs and names itself `order-view`; it has no
 * outbox, no inbox and no saga, so their settings do not apply.
 */
export const orderViewEnv = serviceEnv
  .pick({
    DATABASE_URL: true,
    KAFKA_BROKERS: true,
    KAFKA_TOPIC_PREFIX: true,
    HTTP_PORT: true,
    LOG_LEVEL: true,
    OTEL_EXPORTER_OTLP_ENDPOINT: true,
  })
  .extend({
    SERVICE_NAME: envVar(z.literal('order-view'), {
      description: 'which service this process runs',
      expected: 'order-view',
      example: 'order-view',
    }),
  });

export type OrderViewConfig = CamelCased<z.output<typeof orderViewEnv>>;

export const CONFIG = Symbol('OrderViewConfig');

export function loadOrderViewConfig(env: NodeJS.ProcessEnv = process.env): OrderViewConfig {
  return loadConfig(orderViewEnv, env);
}
