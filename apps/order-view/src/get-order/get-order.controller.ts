import { Controller, Get, Param, UseInterceptors } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiProblemResponses, ProblemException, problemType } from '@order-saga/http';
import { z } from 'zod';
import { FreshnessInterceptor } from '../http/freshness.interceptor.js';
import { OrderDetail, toDetail } from '../order-summary/order-summary.response.js';
import { OrderSummaryQueries } from '../order-summary/order-summary.queries.js';

const OrderId = z.uuid();

@ApiTags('orders')
@Controller('orders')
@UseInterceptors(FreshnessInterceptor)
export class GetOrderController {
  constructor(private readonly queries: OrderSummaryQueries) {}

  @Get(':orderId')
  @ApiOperation({ summary: 'An order: its summary and its timeline across all four services' })
  @ApiParam({ name: 'orderId', format: 'uuid' })
  @ApiOkResponse({ description: 'The order', standardSchema: OrderDetail })
  @ApiProblemResponses({ 404: 'No such order (yet: see the freshness header)', 503: 'The read model is still back-filling' })
  async getOrder(@Param('orderId') orderId: string): Promise<OrderDetail> {
    const view = OrderId.safeParse(orderId).success ? await this.queries.get(orderId) : null;
    if (!view) {
      throw new ProblemException({
        type: problemType('order-not-found'),
        title: 'Order not found',
        status: 404,
        detail: `The read model has no order ${orderId}; an order placed moments ago may not have reached it yet.`,
      });
    }
    return toDetail(view);
  }
}
