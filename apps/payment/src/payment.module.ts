import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { ServicePlatformModule } from '@order-saga/platform';
import { ChargePaymentHandler } from './charge-payment/charge-payment.handler.js';
import { PrismaService } from './infra/prisma.service.js';
import { PaymentMessages } from './payment.messages.js';
import { RefundPaymentHandler } from './refund-payment/refund-payment.handler.js';

@Module({
  imports: [
    ServicePlatformModule.forRoot({ prisma: PrismaService }),
    CqrsModule.forRoot(),
  ],
  controllers: [PaymentMessages],
  providers: [ChargePaymentHandler, RefundPaymentHandler],
})
export class PaymentModule {}
