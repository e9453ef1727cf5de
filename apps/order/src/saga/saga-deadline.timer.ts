import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { context } from '@opentelemetry/api';
import { contextFromTraceparent, runWithMessageContext, withSpan } from '@order-saga/telemetry';
import { PrismaService } from '../infra/prisma.service.js';
import { onDeadline } from './order.saga.js';
import { SagaRunner } from './saga-runner.js';

const TICK_MS = 200;
const BATCH = 50;

/**
 * Acts on sagas whose step deadline has passed: re-send, or give up and compensate. Deadlines live
 * in the saga rows, so a restarted (or another) order process picks up what a crashed one left;
 * `FOR UPDATE SKIP LOCKED` lets several replicas share the work without acting on one saga twice.
 */
@Injectable()
export class SagaDeadlineTimer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('SagaDeadlineTimer');
  private stopping = false;
  private loop?: Promise<void>;

  constructor(
    private readonly prisma: PrismaService,
    private readonly sagas: SagaRunner,
  ) {}

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        const handled = await this.tick();
        if (handled < BATCH) await sleep(TICK_MS);
      } catch (error) {
        this.logger.warn(`deadline sweep failed, retrying: ${(error as Error).message}`);
        await sleep(1000);
      }
    }
  }

  /** Handles up to one batch of due sagas, each in its own transaction. */
  private async tick(): Promise<number> {
    const due = await this.prisma.$queryRawUnsafe<{ order_id: string }[]>(
      `SELECT order_id::text FROM saga WHERE deadline_at <= now() ORDER BY deadline_at LIMIT ${BATCH}`,
    );
    for (const { order_id: orderId } of due) {
      if (this.stopping) break;
      await this.expire(orderId);
    }
    return due.length;
  }

  private async expire(orderId: string): Promise<void> {
    const order = await this.prisma.order.findUnique({
      where: { id: orderId },
      select: { correlationId: true, saga: { select: { traceparent: true, tracestate: true } } },
    });
    if (!order?.saga) return;
    const parent = contextFromTraceparent({
      traceparent: order.saga.traceparent ?? undefined,
      tracestate: order.saga.tracestate ?? undefined,
    });
    // The retry or compensation joins the order's trace and carries its correlation id.
    await context.with(parent, () =>
      runWithMessageContext({ correlationId: order.correlationId }, () =>
        withSpan('order saga deadline', { 'order.id': orderId }, () =>
          this.prisma.$transaction(async (tx) => {
            const locked = await tx.$queryRawUnsafe<unknown[]>(
              'SELECT 1 FROM saga WHERE order_id = $1::uuid AND deadline_at <= now() FOR UPDATE SKIP LOCKED',
              orderId,
            );
            // Another replica has it, or a reply moved it on since the sweep read it.
            if (locked.length === 0) return;
            await this.sagas.run(orderId, tx, (saga) => onDeadline(saga, new Date(), this.sagas.policy));
          }),
        ),
      ),
    );
  }
}
