import { Controller, Get, Param, Query, UseInterceptors, applyDecorators } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiProblemResponses } from '@order-saga/http';
import { FreshnessInterceptor } from '../http/freshness.interceptor.js';
import { OrderPage, toItem } from '../order-summary/order-summary.response.js';
import { OrderSummaryQueries } from '../order-summary/order-summary.queries.js';
import { MAX_LIMIT, encodeCursor, parseListQuery, type ListRequest } from './list-orders.request.js';

const ListQueries = () =>
  applyDecorators(
  ApiQuery({ name: 'status', required: false, enum: ['PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED', 'COMPENSATION_FAILED'] }),
  ApiQuery({ name: 'sku', required: false, description: 'orders with a line of this sku' }),
  ApiQuery({ name: 'placedFrom', required: false, description: 'ISO 8601, inclusive' }),
  ApiQuery({ name: 'placedTo', required: false, description: 'ISO 8601, exclusive' }),
  ApiQuery({ name: 'limit', required: false, description: `1-${MAX_LIMIT}, default 50` }),
  ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' }),
  );

@ApiTags('orders')
@Controller()
@UseInterceptors(FreshnessInterceptor)
export class ListOrdersController {
  constructor(private readonly queries: OrderSummaryQueries) {}

  @Get('orders')
  @ApiOperation({ summary: 'Orders across services, newest first, with cursor paging' })
  @ApiQuery({ name: 'customerId', required: false })
  @ListQueries()
  @ApiOkResponse({ description: 'A page of orders', standardSchema: OrderPage })
  @ApiProblemResponses({ 400: 'A query parameter is invalid', 503: 'The read model is still back-filling' })
  async list(@Query() query: Record<string, unknown>): Promise<OrderPage> {
    return this.page(parseListQuery(query));
  }

  @Get('customers/:customerId/orders')
  @ApiOperation({ summary: "A customer's orders, newest first, with cursor paging" })
  @ApiParam({ name: 'customerId' })
  @ListQueries()
  @ApiOkResponse({ description: 'A page of orders', standardSchema: OrderPage })
  @ApiProblemResponses({ 400: 'A query parameter is invalid', 503: 'The read model is still back-filling' })
  async listForCustomer(
    @Param('customerId') customerId: string,
    @Query() query: Record<string, unknown>,
  ): Promise<OrderPage> {
    const request = parseListQuery({ ...query, customerId: undefined });
    return this.page({ ...request, filter: { ...request.filter, customerId } });
  }

  private async page({ filter, limit, cursor }: ListRequest): Promise<OrderPage> {
    // One more than asked: whether a next page exists is known without a count.
    const views = await this.queries.list(filter, limit + 1, cursor);
    const page = views.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toItem),
      nextCursor: views.length > limit && last ? encodeCursor({ placedAt: last.placedAt!, orderId: last.orderId }) : null,
    };
  }
}
