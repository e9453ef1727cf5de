import { Controller, Get, HttpCode, HttpStatus, Param, Post, Query, UseGuards } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { AdminTokenGuard } from '@order-saga/platform';
import { z } from 'zod';
import { ApiProblemResponses } from '@order-saga/http';
import { ProblemException, problemType } from '@order-saga/http';
import { validated } from '@order-saga/http';
import { ListSagas } from './list-sagas.handler.js';
import { RetrySaga } from './retry-saga.handler.js';
import { ListSagasQuery, SagaPage, SagaView } from './saga-admin.view.js';

const OrderId = z.uuid();

/** What operators may do to sagas, behind the admin token (`pnpm saga` calls these). */
@ApiTags('admin')
@ApiHeader({ name: 'Authorization', required: true, description: 'Bearer <ADMIN_TOKEN>' })
@ApiProblemResponses({
  401: 'No or wrong admin token',
  403: 'Admin endpoints are disabled: ADMIN_TOKEN is not set',
})
@UseGuards(AdminTokenGuard)
@Controller('admin/sagas')
export class SagaAdminController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Sagas, optionally of one status, a page at a time' })
  @ApiOkResponse({ description: 'A page of sagas', standardSchema: SagaPage })
  @ApiProblemResponses({ 400: 'Invalid query' })
  listSagas(@Query(validated(ListSagasQuery)) query: ListSagasQuery): Promise<SagaPage> {
    return this.queries.execute(new ListSagas(query));
  }

  @Post(':orderId/retry')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: "Resume a saga's compensations",
    description:
      'Re-sends every pending compensation of a COMPENSATION_FAILED (or still COMPENSATING) saga with ' +
      'fresh attempts and deadline. Safe to repeat: participants undo at most once per order.',
  })
  @ApiParam({ name: 'orderId', format: 'uuid' })
  @ApiOkResponse({ description: 'The saga, compensating again', standardSchema: SagaView })
  @ApiProblemResponses({ 404: 'No such order', 409: 'The saga has no compensation to resume' })
  async retrySaga(@Param('orderId') orderId: string): Promise<SagaView> {
    const outcome = OrderId.safeParse(orderId).success
      ? await this.commands.execute(new RetrySaga(orderId))
      : ({ kind: 'not-found' } as const);
    if (outcome.kind === 'retried') return outcome.saga;
    if (outcome.kind === 'not-found')
      throw new ProblemException({
        type: problemType('order-not-found'),
        title: 'Order not found',
        status: 404,
        detail: `There is no order ${orderId}.`,
      });
    throw new ProblemException({
      type: problemType('saga-not-retryable'),
      title: 'Saga not retryable',
      status: 409,
      detail: `The saga of order ${orderId} is ${outcome.status}: only a COMPENSATION_FAILED or COMPENSATING saga with compensations pending can be retried.`,
    });
  }
}
