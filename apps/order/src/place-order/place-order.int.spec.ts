import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { loadConfig } from '@order-saga/config';
import { createScratchDatabase, serviceSchema, type ScratchDatabase } from '@order-saga/database';
import { Outbox } from '@order-saga/outbox';
import { CONFIG, HealthRegistry, PG_POOL, Transactions, type ServiceConfig } from '@order-saga/platform';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetOrderController } from '../get-order/get-order.controller.js';
import { GetOrderHandler } from '../get-order/get-order.handler.js';
import type { OrderView } from '../get-order/order.view.js';
import { configureOrderHttp } from '../order-http.js';
import type { Problem } from '@order-saga/http';
import { PrismaService } from '../infra/prisma.service.js';
import { SagaStore } from '../infra/saga.store.js';
import { SAGA_POLICY, sagaPolicyFrom } from '../saga/saga-policy.js';
import { Backpressure } from './backpressure.js';
import { PlaceOrderController } from './place-order.controller.js';
import { PlaceOrderHandler } from './place-order.handler.js';
import type { PlaceOrderAccepted } from './place-order.request.js';

// The order API as OrderModule wires it, minus Kafka (inbox transport, relay): requests go over
// real HTTP into a real, freshly migrated order database.
const adminUrl =
  process.env.TEST_DATABASE_ADMIN_URL ??
  process.env.DATABASE_ADMIN_URL ??
  'postgresql://postgres@127.0.0.1:5432/postgres';

@Module({})
class OrderApiModule {
  static with(config: ServiceConfig, pool: pg.Pool): DynamicModule {
    return {
      module: OrderApiModule,
      imports: [CqrsModule.forRoot()],
      controllers: [PlaceOrderController, GetOrderController],
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: SAGA_POLICY, useValue: sagaPolicyFrom(config) },
        { provide: Outbox, useValue: new Outbox() },
        { provide: PG_POOL, useValue: pool },
        Transactions,
        PrismaService,
        SagaStore,
        HealthRegistry,
        Backpressure,
        PlaceOrderHandler,
        GetOrderHandler,
      ],
    };
  }
}

interface Api {
  app: INestApplication;
  url: string;
  prisma: PrismaService;
  /** Closes the app, then its pool (the platform does both on shutdown). */
  close(): Promise<void>;
}

async function startApi(databaseUrl: string, bounds: Partial<ServiceConfig> = {}): Promise<Api> {
  const config = {
    ...loadConfig({ SERVICE_NAME: 'order', DATABASE_URL: databaseUrl, KAFKA_BROKERS: '127.0.0.1:9092' }),
    ...bounds,
  };
  // The platform's pool, small: the test server's connections are shared.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  const app = await NestFactory.create(OrderApiModule.with(config, pool), { logger: ['error', 'warn'] });
  configureOrderHttp(app);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    prisma: app.get(PrismaService),
    close: async () => {
      await app.close();
      await pool.end();
    },
  };
}

let db: ScratchDatabase;
let api: Api;
let keys = 0;
const newKey = () => `key-${process.pid}-${++keys}`;

const anOrder = (customerId: string, overrides: Record<string, unknown> = {}) => ({
  customerId,
  items: [
    { sku: 'widget', quantity: 3 },
    { sku: 'gadget', quantity: 1 },
  ],
  shippingAddress: { country: 'FR', city: 'Lyon', line1: '1 rue de la République' },
  ...overrides,
});

async function post(body: unknown, key: string | undefined, base = api.url) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== undefined) headers['idempotency-key'] = key;
  const response = await fetch(`${base}/orders`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Answer,
  };
}

/** What POST /orders answers: the accepted order or a problem. */
type Answer = Partial<Omit<PlaceOrderAccepted, 'status'>> &
  Partial<Omit<Problem, 'status'>> & { status?: unknown };

/** The id of an accepted order; fails the test when the answer is not one. */
function acceptedId(answer: { status: number; body: Answer }): string {
  expect(answer.status).toBe(202);
  expect(answer.body.orderId).toEqual(expect.any(String));
  return answer.body.orderId as string;
}

/** The value at `path` inside parsed JSON, for documents too loose to type (OpenAPI, /health). */
const dig = (value: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], value);

const ordersOf = (customerId: string) => api.prisma.order.count({ where: { customerId } });

beforeAll(async () => {
  db = await createScratchDatabase({ adminUrl, prefix: 'order_api', ...serviceSchema('order') });
  api = await startApi(db.url);
});

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

describe('POST /orders', () => {
  it('accepts an order with 202, a Location, the priced order, its saga and OrderPlaced + ReserveStock in the outbox', async () => {
    const response = await post(anOrder('accepted'), newKey());

    const orderId = acceptedId(response);
    expect(response.body).toEqual({ orderId, status: 'PENDING', statusUrl: `/orders/${orderId}` });
    expect(orderId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(response.headers.get('location')).toBe(`/orders/${orderId}`);

    const order = await api.prisma.order.findUniqueOrThrow({
      where: { id: orderId },
      include: { items: { orderBy: { sku: 'asc' } } },
    });
    expect(order).toMatchObject({ status: 'PENDING', total: 3 * 1000 + 2500, country: 'FR', city: 'Lyon' });
    expect(order.items.map(({ sku, quantity, unitPrice }) => ({ sku, quantity, unitPrice }))).toEqual([
      { sku: 'gadget', quantity: 1, unitPrice: 2500 },
      { sku: 'widget', quantity: 3, unitPrice: 1000 },
    ]);
    expect(await api.prisma.saga.findUniqueOrThrow({ where: { orderId } })).toMatchObject({
      status: 'RESERVING',
    });
    const outbox = await api.prisma.outbox.findMany({
      where: { aggregateId: orderId },
      orderBy: { seq: 'asc' },
    });
    expect(outbox.map((row) => row.type)).toEqual(['OrderPlaced', 'ReserveStock']);
    expect(outbox[0]!.payload).toMatchObject({ orderId, customerId: 'accepted', total: 5500 });
    // Both messages belong to one business flow: the order's correlation id.
    expect(new Set(outbox.map((row) => row.correlationId))).toEqual(new Set([order.correlationId]));
  });

  it('answers a repeated request (same key, same body) with the first answer and places nothing new', async () => {
    const key = newKey();
    const first = await post(anOrder('repeated'), key);
    // Same body, other key order: still the same request.
    const { shippingAddress, items, customerId } = anOrder('repeated');
    const second = await post({ shippingAddress, items, customerId }, key);

    const orderId = acceptedId(first);
    expect(acceptedId(second)).toBe(orderId);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('location')).toBe(`/orders/${orderId}`);
    expect(await ordersOf('repeated')).toBe(1);
    expect(await api.prisma.outbox.count({ where: { aggregateId: orderId } })).toBe(2);
  });

  it('places exactly one order for 20 concurrent requests with one key, and gives all of them its id', async () => {
    const key = newKey();
    const responses = await Promise.all(Array.from({ length: 20 }, () => post(anOrder('concurrent'), key)));

    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(202));
    const ids = new Set(responses.map(acceptedId));
    expect(ids.size).toBe(1);
    const [orderId] = [...ids] as [string];
    expect(await ordersOf('concurrent')).toBe(1);
    expect(await api.prisma.idempotencyKey.count({ where: { key } })).toBe(1);
    expect(await api.prisma.saga.count({ where: { orderId } })).toBe(1);
    expect(await api.prisma.outbox.count({ where: { aggregateId: orderId } })).toBe(2);
  });

  it('refuses a key reused with a different body with 422, leaving the first order alone', async () => {
    const key = newKey();
    const first = await post(anOrder('reused'), key);
    const second = await post(anOrder('reused', { items: [{ sku: 'widget', quantity: 99 }] }), key);

    expect(first.status).toBe(202);
    expect(second.status).toBe(422);
    expect(second.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(second.body).toMatchObject({
      status: 422,
      title: 'Idempotency-Key reused with a different body',
      errors: [{ field: 'Idempotency-Key', reason: 'key reused with a different body' }],
    });
    expect(await ordersOf('reused')).toBe(1);
  });

  it('refuses a request without Idempotency-Key with 400 naming the header', async () => {
    const response = await post(anOrder('no-key'), undefined);

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({
      status: 400,
      instance: '/orders',
      errors: [{ field: 'Idempotency-Key', reason: 'required' }],
    });
    expect(await ordersOf('no-key')).toBe(0);
  });

  it('refuses an Idempotency-Key over 200 characters', async () => {
    const response = await post(anOrder('long-key'), 'k'.repeat(201));
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ field: 'Idempotency-Key', reason: 'at most 200 characters' }]);
  });

  it.each([
    [
      'an unknown field',
      anOrder('invalid', { coupon: 'FREE' }),
      [{ field: 'coupon', reason: 'unknown field' }],
    ],
    [
      'no items',
      anOrder('invalid', { items: [] }),
      [{ field: 'items', reason: 'at least one item is required' }],
    ],
    [
      'a quantity of 0',
      anOrder('invalid', { items: [{ sku: 'widget', quantity: 0 }] }),
      [{ field: 'items[0].quantity', reason: 'expected a positive integer' }],
    ],
    [
      'a country that does not exist',
      anOrder('invalid', { shippingAddress: { country: 'UK', city: 'London', line1: '10 Downing St' } }),
      [
        {
          field: 'shippingAddress.country',
          reason: 'expected an ISO 3166-1 alpha-2 country code such as "FR"',
        },
      ],
    ],
    [
      'a customer id of the wrong type',
      anOrder('invalid', { customerId: 42 }),
      [{ field: 'customerId', reason: 'expected a string' }],
    ],
  ])('refuses %s with 400 problem+json, a reason per field, and no order', async (_, body, errors) => {
    const response = await post(body, newKey());

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({
      type: expect.any(String),
      title: 'Invalid request',
      status: 400,
      instance: '/orders',
      errors,
    });
    expect(await ordersOf('invalid')).toBe(0);
    expect(await ordersOf('42')).toBe(0);
  });

  it('refuses a 70 KiB body with 413 problem+json before reading it, and places nothing', async () => {
    const body = anOrder('huge', {
      shippingAddress: { country: 'FR', city: 'Lyon', line1: 'x'.repeat(70 * 1024) },
    });
    const response = await post(body, newKey());

    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({
      status: 413,
      errors: [{ field: '(body)', reason: expect.stringMatching(/at most 65536/) }],
    });
    expect(await ordersOf('huge')).toBe(0);
  });

  it('refuses malformed JSON with 400 problem+json', async () => {
    const response = await post('{"customerId": ', newKey());
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      status: 400,
      errors: [{ field: '(body)', reason: expect.stringMatching(/^not valid JSON/) }],
    });
  });

  it('refuses an unknown sku with 422 naming it, keeps no key, so a corrected retry with the same key succeeds', async () => {
    const key = newKey();
    const refused = await post(
      anOrder('unknown-sku', {
        items: [
          { sku: 'widget', quantity: 1 },
          { sku: 'gizmo', quantity: 1 },
        ],
      }),
      key,
    );

    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({
      status: 422,
      detail: expect.stringContaining('gizmo'),
      errors: [{ field: 'items[1].sku', reason: 'unknown sku "gizmo"' }],
    });
    expect(await ordersOf('unknown-sku')).toBe(0);
    expect(await api.prisma.idempotencyKey.count({ where: { key } })).toBe(0);

    const corrected = await post(anOrder('unknown-sku', { items: [{ sku: 'widget', quantity: 1 }] }), key);
    expect(corrected.status).toBe(202);
  });
});

describe('GET /orders/:id', () => {
  it('shows the order with its lines and the saga steps so far, in order', async () => {
    const placed = await post(anOrder('shown'), newKey());
    const orderId = acceptedId(placed);
    await api.prisma.sagaStep.create({ data: { orderId, name: 'reserve-stock', outcome: 'reserved' } });

    const response = await fetch(`${api.url}${placed.body.statusUrl}`);
    const view = (await response.json()) as OrderView;

    expect(response.status).toBe(200);
    expect(view).toEqual({
      orderId,
      status: 'PENDING',
      total: 5500,
      items: [
        { sku: 'gadget', quantity: 1, unitPrice: 2500 },
        { sku: 'widget', quantity: 3, unitPrice: 1000 },
      ],
      steps: [
        { name: 'reserve-stock', outcome: 'requested', at: expect.any(String) },
        { name: 'reserve-stock', outcome: 'reserved', at: expect.any(String) },
      ],
    });
    expect(view.steps.map((step) => Date.parse(step.at))).not.toContain(NaN);
  });

  it.each([
    ['an order that does not exist', '0190f5d4-0000-7000-8000-000000000000'],
    ['an id that is not a uuid', 'not-an-id'],
  ])('answers 404 problem+json for %s', async (_, id) => {
    const response = await fetch(`${api.url}/orders/${id}`);

    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({
      status: 404,
      title: 'Order not found',
      instance: `/orders/${id}`,
    });
  });
});

describe('HTTP edges', () => {
  it('answers an unknown route with a 404 problem', async () => {
    const response = await fetch(`${api.url}/nowhere?secret=1`);

    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toEqual({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: 'Cannot GET /nowhere?secret=1',
      instance: '/nowhere',
    });
  });

  it('publishes OpenAPI with the request and response schemas', async () => {
    const document: unknown = await (await fetch(`${api.url}/docs-json`)).json();
    const placeOrder = dig(document, 'paths', '/orders', 'post');
    const requestSchema = dig(placeOrder, 'requestBody', 'content', 'application/json', 'schema');

    expect(requestSchema).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: ['customerId', 'items', 'shippingAddress'],
    });
    expect(dig(requestSchema, 'properties', 'items')).toMatchObject({ minItems: 1 });
    expect(dig(requestSchema, 'properties', 'shippingAddress', 'properties', 'country', 'enum')).toContain(
      'FR',
    );
    expect(dig(placeOrder, 'parameters')).toContainEqual(
      expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: true }),
    );
    expect(
      dig(placeOrder, 'responses', '202', 'content', 'application/json', 'schema', 'properties'),
    ).toHaveProperty('orderId');
    expect(dig(placeOrder, 'responses', '422', 'content')).toHaveProperty(['application/problem+json']);
    const orderView = dig(
      document,
      'paths',
      '/orders/{id}',
      'get',
      'responses',
      '200',
      'content',
      'application/json',
    );
    expect(dig(orderView, 'schema', 'properties')).toHaveProperty('steps');
    expect((await fetch(`${api.url}/docs`)).status).toBe(200);
  });
});

describe('backpressure', () => {
  it.each([
    ['sagas in flight', { orderMaxSagasInFlight: 0 }, /sagas in flight/],
    ['unpublished outbox rows', { orderMaxUnpublishedOutbox: 0 }, /unpublished outbox rows/],
  ])(
    'answers 429 with Retry-After when %s pass the bound, without touching the database',
    async (_, bounds, reason) => {
      // Earlier tests left running sagas and unpublished rows in this database: any bound of 0 is passed.
      const loaded = await startApi(db.url, bounds);
      try {
        const keysBefore = await loaded.prisma.idempotencyKey.count();
        const response = await post(anOrder('shed'), newKey(), loaded.url);

        expect(response.status).toBe(429);
        expect(response.headers.get('retry-after')).toBe('1');
        expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(response.body).toMatchObject({ status: 429, detail: expect.stringMatching(reason) });
        expect(await loaded.prisma.idempotencyKey.count()).toBe(keysBefore);
        expect(await ordersOf('shed')).toBe(0);

        const health = await loaded.app.get(HealthRegistry).collect();
        expect(health['backpressure']).toMatchObject({
          shedding: true,
          reason: expect.stringMatching(reason),
        });
      } finally {
        await loaded.close();
      }
    },
  );

  it('reports its bounds and the current figures in /health while accepting orders', async () => {
    const health = await api.app.get(HealthRegistry).collect();
    const sagas = await api.prisma.saga.count({ where: { deadlineAt: { not: null } } });

    expect(health['backpressure']).toMatchObject({
      shedding: false,
      reason: null,
      sagasInFlight: { max: 2000 },
      unpublishedOutbox: { max: 5000 },
      refreshedAt: expect.any(String),
    });
    // Refreshed every 200 ms: within a second it has caught up with the orders placed above.
    await expect
      .poll(
        async () =>
          dig(await api.app.get(HealthRegistry).collect(), 'backpressure', 'sagasInFlight', 'current'),
        { timeout: 2000 },
      )
      .toBe(sagas);
  });
});
