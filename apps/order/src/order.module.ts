import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { CONFIG, ServicePlatformModule, type ServiceConfig } from '@order-saga/platform';
import { GetOrderController } from './get-order/get-order.controller.js';
import { GetOrderHandler } from './get-order/get-order.handler.js';
import { PrismaService } from './infra/prisma.service.js';
import { SagaStore } from './infra/saga.store.js';
import { Backpressure } from './place-order/backpressure.js';
import { IdempotencyKeyPurge } from './place-order/idempotency-key.purge.js';
import { PlaceOrderController } from './place-order/place-order.controller.js';
import { PlaceOrderHandler } from './place-order/place-order.handler.js';
import { ListSagasHandler } from './saga-admin/list-sagas.handler.js';
import { RetrySagaHandler } from './saga-admin/retry-saga.handler.js';
import { SagaAdminController } from './saga-admin/saga-admin.controller.js';
import { RecordReplyHandler } from './saga/record-reply.handler.js';
import { SagaDeadlineTimer } from './saga/saga-deadline.timer.js';
import { SagaListener } from './saga/saga.listener.js';
import { SagaMetrics } from './saga/saga-metrics.js';
import { SagaRunner } from './saga/saga-runner.js';
import { SAGA_POLICY, sagaPolicyFrom } from './saga/saga-policy.js';

@Module({
  imports: [
    ServicePlatformModule.forRoot({
      prisma: PrismaService,
      brokerMonitor: true,
    }),
    CqrsModule.forRoot(),
  ],
  controllers: [SagaListener, PlaceOrderController, GetOrderController, SagaAdminController],
  providers: [
    SagaStore,
    PlaceOrderHandler,
    GetOrderHandler,
    Backpressure,
    IdempotencyKeyPurge,
    SagaRunner,
    RecordReplyHandler,
    SagaDeadlineTimer,
    SagaMetrics,
    RetrySagaHandler,
    ListSagasHandler,
    { provide: SAGA_POLICY, inject: [CONFIG], useFactory: (config: ServiceConfig) => sagaPolicyFrom(config) },
  ],
})
export class OrderModule {}
