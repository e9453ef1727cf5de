import { Body, Controller, Headers, HttpCode, HttpStatus, Post, Res, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiAcceptedResponse, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblemResponses } from '@order-saga/http';
import { ProblemException, invalidRequest, problemType } from '@order-saga/http';
import { validated } from '@order-saga/http';
import { ShedLoadGuard } from './backpressure.js';
import { PlaceOrder, type PlaceOrderOutcome } from './place-order.handler.js';
import { IdempotencyKey, PlaceOrderAccepted, PlaceOrderRequest } from './place-order.request.js';

@ApiTags('orders')
@Controller('orders')
export class PlaceOrderController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  @UseGuards(ShedLoadGuard)
  @ApiOperation({
    summary: 'Place an order',
    description:
      'Accepts the order and starts its saga; follow it at statusUrl. Repeating a request with the same ' +
      'Idempotency-Key and body returns the first answer and places nothing new.',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: true,
    description: 'Client-chosen key of this order attempt, 1-200 characters',
  })
  @ApiAcceptedResponse({
    description: 'Order accepted (or the same request already was)',
    standardSchema: PlaceOrderAccepted,
    headers: { Location: { description: 'the order: /orders/{orderId}', schema: { type: 'string' } } },
  })
  @ApiProblemResponses({
    400: 'Invalid body or Idempotency-Key; `errors` lists each field',
    413: 'Body larger than 64 KiB',
    422: 'Unknown sku, total too large, or the Idempotency-Key was used with another body',
    429: 'The service is shedding load; retry after Retry-After seconds',
  })
  async placeOrder(
    @Headers('idempotency-key') keyHeader: string | undefined,
    @Body(validated(PlaceOrderRequest)) request: PlaceOrderRequest,
    @Res({ passthrough: true }) response: { setHeader(name: string, value: string): unknown },
  ): Promise<PlaceOrderAccepted> {
    const key = IdempotencyKey.safeParse(keyHeader);
    if (!key.success)
      throw invalidRequest(
        key.error.issues.map((issue) => ({ field: 'Idempotency-Key', reason: issue.message })),
      );
    const outcome = await this.commands.execute(new PlaceOrder(key.data, request));
    if (outcome.kind !== 'accepted') throw refusal(outcome, request);
    response.setHeader('Location', outcome.response.statusUrl);
    return outcome.response;
  }
}

function refusal(
  outcome: Exclude<PlaceOrderOutcome, { kind: 'accepted' }>,
  request: PlaceOrderRequest,
): ProblemException {
  const unprocessable = (
    slug: string,
    title: string,
    detail: string,
    errors?: { field: string; reason: string }[],
  ) =>
    new ProblemException({
      type: problemType(slug),
      title,
      status: 422,
      detail,
      ...(errors ? { errors } : {}),
    });
  switch (outcome.kind) {
    case 'key-reused':
      return unprocessable(
        'idempotency-key-reused',
        'Idempotency-Key reused with a different body',
        'This Idempotency-Key was already used with a different body; use a new key for a new order.',
        [{ field: 'Idempotency-Key', reason: 'key reused with a different body' }],
      );
    case 'unknown-skus':
      return unprocessable(
        'unknown-sku',
        'Unknown sku',
        `Not in the catalogue: ${outcome.skus.join(', ')}.`,
        outcome.skus.map((sku) => ({
          field: `items[${request.items.findIndex((item) => item.sku === sku)}].sku`,
          reason: `unknown sku "${sku}"`,
        })),
      );
    case 'total-too-large':
      return unprocessable(
        'total-too-large',
        'Order total too large',
        `The order totals ${outcome.total} minor units, more than one order may.`,
      );
  }
}
