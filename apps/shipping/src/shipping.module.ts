import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { ServicePlatformModule } from '@order-saga/platform';
import { CancelShipmentHandler } from './cancel-shipment/cancel-shipment.handler.js';
import { CreateShipmentHandler } from './create-shipment/create-shipment.handler.js';
import { PrismaService } from './infra/prisma.service.js';
import { ShippingMessages } from './shipping.messages.js';

@Module({
  imports: [
    ServicePlatformModule.forRoot({ prisma: PrismaService }),
    CqrsModule.forRoot(),
  ],
  controllers: [ShippingMessages],
  providers: [CreateShipmentHandler, CancelShipmentHandler],
})
export class ShippingModule {}
