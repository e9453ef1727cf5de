import type { ServiceConfig } from '@order-saga/platform';
import type { SagaPolicy } from './order.saga.js';

/** Injection token of the saga's deadlines and retry limits. */
export const SAGA_POLICY = Symbol('SAGA_POLICY');

export function sagaPolicyFrom(config: ServiceConfig): SagaPolicy {
  return {
    stepTimeoutMs: config.sagaStepTimeoutMs,
    stepMaxAttempts: config.sagaStepMaxAttempts,
    compensationMaxAttempts: config.sagaCompensationMaxAttempts,
    compensationBackoffMs: config.sagaCompensationBackoffMs,
  };
}
