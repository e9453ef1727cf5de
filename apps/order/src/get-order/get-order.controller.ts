import { Controller, Get, Param } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiProblemResponses } from '@order-saga/http';
import { ProblemException, problemType } from '@order-saga/http';
import { GetOrder } from './get-order.handler.js';
import { OrderView } from './order.view.js';

const OrderId = z.uuid();

@ApiTags('orders')
@Controller('orders')
export class GetOrderController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':id')
  @ApiOperation({ summary: 'An order, its status and the steps of its saga' })
  @ApiParam({ name: 'id', description: 'the orderId returned by POST /orders', format: 'uuid' })
  @ApiOkResponse({ description: 'The order', standardSchema: OrderView })
  @ApiProblemResponses({ 404: 'No such order' })
  async getOrder(@Param('id') id: string): Promise<OrderView> {
    // A malformed id names no order either: 404, not 400, so ids stay opaque to clients.
    const order = OrderId.safeParse(id).success ? await this.queries.execute(new GetOrder(id)) : null;
    if (!order) {
      throw new ProblemException({
        type: problemType('order-not-found'),
        title: 'Order not found',
        status: 404,
        detail: `There is no order ${id}.`,
      });
    }
    return order;
  }
}
