import { Injectable } from '@nestjs/common';
import { Outbox } from '@order-saga/outbox';
import { currentTraceContext } from '@order-saga/telemetry';
import type { Decision, OrderData, OrderSaga, Participant, SagaStatus } from '../saga/order.saga.js';
import { terminalStatuses } from '../saga/order.saga.js';
import type { Tx } from './prisma.service.js';

/** The order's public status: PENDING while the saga runs, then its outcome. */
export function orderStatusOf(status: SagaStatus): string {
  return (terminalStatuses as readonly string[]).includes(status) ? status : 'PENDING';
}

/**
 * Loads and saves sagas in the order database. Every write goes through the caller's transaction
 * together with the outbox rows, so the state and the commands it implies commit as one.
 */
@Injectable()
export class PrismaSagaStore {
  constructor(private readonly outbox: Outbox) {}

  /** Records a new saga for an order inserted in the same transaction, and sends its first messages. */
  async start(decision: Decision, tx: Tx): Promise<void> {
    const { saga } = decision;
    const trace = currentTraceContext();
    await tx.saga.create({
      data: {
        orderId: saga.orderId,
        status: saga.status,
        attempt: saga.attempt,
        deadlineAt: saga.deadlineAt,
        pending: saga.pending,
        compensated: saga.compensated,
        reason: saga.reason,
        data: saga.data as object,
        traceparent: trace.traceparent ?? null,
        tracestate: trace.tracestate ?? null,
      },
    });
    await this.record(decision, tx);
  }

  /** The saga of an order, locked until the transaction ends (one reply or deadline at a time). */
  async load(
    orderId: string,
    tx: Tx,
  ): Promise<(OrderSaga & { traceparent: string | null; tracestate: string | null }) | null> {
    const rows = await tx.$queryRawUnsafe<{ order_id: string }[]>(
      'SELECT order_id FROM saga WHERE order_id = $1::uuid FOR UPDATE',
      orderId,
    );
    if (rows.length === 0) return null;
    const row = await tx.saga.findUniqueOrThrow({ where: { orderId } });
    return {
      orderId: row.orderId,
      status: row.status as SagaStatus,
      attempt: row.attempt,
      deadlineAt: row.deadlineAt,
      pending: row.pending as Participant[],
      compensated: row.compensated as Participant[],
      reason: row.reason,
      data: row.data as unknown as OrderData,
      traceparent: row.traceparent,
      tracestate: row.tracestate,
    };
  }

  /** Saves what a decision changed: saga state, the order's status, history, outgoing messages. */
  async apply(before: OrderSaga, decision: Decision, tx: Tx): Promise<void> {
    const { saga } = decision;
    if (saga !== before) {
      await tx.saga.update({
        where: { orderId: saga.orderId },
        data: {
          status: saga.status,
          attempt: saga.attempt,
          deadlineAt: saga.deadlineAt,
          pending: saga.pending,
          compensated: saga.compensated,
          reason: saga.reason,
          version: { increment: 1 },
        },
      });
      if (saga.status !== before.status) {
        await tx.order.update({
          where: { id: saga.orderId },
          data: { status: orderStatusOf(saga.status), reason: saga.reason },
        });
      }
    }
    await this.record(decision, tx);
  }

  private async record(decision: Decision, tx: Tx): Promise<void> {
    if (decision.steps.length > 0) {
      await tx.sagaStep.createMany({
        data: decision.steps.map((step) => ({
          orderId: decision.saga.orderId,
          name: step.name,
          outcome: step.outcome,
          detail: step.detail ?? null,
        })),
      });
    }
    if (decision.send.length > 0) await this.outbox.enqueue(decision.send, tx);
  }
}
