import 'reflect-metadata';
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { loadConfig } from '@order-saga/config';
import { createScratchDatabase, serviceSchema, type ScratchDatabase } from '@order-saga/database';
import { Outbox } from '@order-saga/outbox';
import { AdminTokenGuard, CONFIG, PG_POOL, Transactions, type ServiceConfig } from '@order-saga/platform';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureOrderHttp } from '../order-http.js';
import { PrismaService } from '../infra/prisma.service.js';
import { SagaStore } from '../infra/saga.store.js';
import { startSaga } from '../saga/order.saga.js';
import { SagaRunner } from '../saga/saga-runner.js';
import { SAGA_POLICY, sagaPolicyFrom } from '../saga/saga-policy.js';
import { ListSagasHandler } from './list-sagas.handler.js';
import { RetrySagaHandler } from './retry-saga.handler.js';
import { SagaAdminController } from './saga-admin.controller.js';
import type { SagaPage, SagaView } from './saga-admin.view.js';

// The admin API as OrderModule wires it, minus Kafka: real HTTP into a freshly migrated database.
const adminUrl =
  process.env.TEST_DATABASE_ADMIN_URL ??
  process.env.DATABASE_ADMIN_URL ??
  'postgresql://postgres@127.0.0.1:5432/postgres';
const token = 'test-admin-token-0123456789';
// The built CLI, as `pnpm saga` runs it (pnpm build first, as for every integration test).
const sagaCli = fileURLToPath(new URL('../../dist/saga-admin/saga.cli.js', import.meta.url));

@Module({})
class AdminApiModule {
  static with(config: ServiceConfig, pool: pg.Pool): DynamicModule {
    return {
      module: AdminApiModule,
      imports: [CqrsModule.forRoot()],
      controllers: [SagaAdminController],
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: SAGA_POLICY, useValue: sagaPolicyFrom(config) },
        { provide: Outbox, useValue: new Outbox() },
        { provide: PG_POOL, useValue: pool },
        Transactions,
        PrismaService,
        SagaStore,
        SagaRunner,
        AdminTokenGuard,
        RetrySagaHandler,
        ListSagasHandler,
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

async function startApi(databaseUrl: string, adminToken: string | undefined): Promise<Api> {
  const config = loadConfig({
    SERVICE_NAME: 'order',
    DATABASE_URL: databaseUrl,
    KAFKA_BROKERS: '127.0.0.1:9092',
    ADMIN_TOKEN: adminToken,
  });
  // The platform's pool, small: the test server's connections are shared.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  const app = await NestFactory.create(AdminApiModule.with(config, pool), { logger: ['error', 'warn'] });
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

beforeAll(async () => {
  db = await createScratchDatabase({ adminUrl, prefix: 'order_admin', ...serviceSchema('order') });
  api = await startApi(db.url, token);
});

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

async function call(method: 'GET' | 'POST', path: string, authorization?: string, base = api.url) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: authorization === undefined ? {} : { authorization },
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as unknown };
}
const asAdmin = (method: 'GET' | 'POST', path: string) => call(method, path, `Bearer ${token}`);

/** A placed order whose saga is in `status` with `pending` compensations. */
async function aSaga(status: string, pending: string[] = []): Promise<string> {
  const orderId = crypto.randomUUID();
  const now = new Date();
  const data = {
    customerId: 'alice',
    total: 2000,
    items: [{ sku: 'widget', quantity: 2 }],
    address: { country: 'FR', city: 'Paris', line1: '1 rue de Rivoli' },
  };
  const policy = api.app.get(SagaRunner).policy;
  await api.app.get(Transactions).run(async (tx) => {
    await api.app
      .get(SagaStore)
      .start(startSaga(orderId, data, now, policy), { correlationId: `corr-${orderId}`, lines: [] }, tx, now);
    // What the saga looks like after its compensations went unanswered (see order.saga.spec.ts).
    await tx.execute(
      `UPDATE saga SET status = $2, pending = $3::text[], reason = 'shipment refused', attempt = 5,
              deadline_at = CASE WHEN $2 IN ('CONFIRMED', 'REJECTED', 'CANCELLED') THEN NULL ELSE deadline_at END
        WHERE order_id = $1::uuid`,
      [orderId, status, pending],
    );
  });
  return orderId;
}

describe('admin endpoints are bound to ADMIN_TOKEN', () => {
  it('refuses every admin request with 403 problem+json saying how to enable them when no token is configured', async () => {
    const disabled = await startApi(db.url, undefined);
    try {
      for (const [method, path] of [
        ['GET', '/admin/sagas'],
        ['POST', `/admin/sagas/${crypto.randomUUID()}/retry`],
      ] as const) {
        const response = await call(method, path, `Bearer ${token}`, disabled.url);
        expect(response.status).toBe(403);
        expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(response.body).toMatchObject({
          status: 403,
          detail: 'admin endpoints are disabled: set ADMIN_TOKEN',
        });
      }
    } finally {
      await disabled.close();
    }
  });

  it.each([
    ['no token', undefined],
    ['a wrong token', 'Bearer wrong-token-0123456789'],
  ])('refuses %s with 401 and changes nothing', async (_, authorization) => {
    const orderId = await aSaga('COMPENSATION_FAILED', ['payment', 'stock']);
    const response = await call('POST', `/admin/sagas/${orderId}/retry`, authorization);

    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(await api.prisma.saga.findUniqueOrThrow({ where: { orderId } })).toMatchObject({
      status: 'COMPENSATION_FAILED',
    });
    expect(await api.prisma.outbox.count({ where: { aggregateId: orderId, type: 'RefundPayment' } })).toBe(0);
  });
});

describe('POST /admin/sagas/{orderId}/retry', () => {
  it('resumes a COMPENSATION_FAILED saga: compensating again, attempt 1, every pending compensation re-sent under the order correlation id', async () => {
    const orderId = await aSaga('COMPENSATION_FAILED', ['payment', 'stock']);
    const response = await asAdmin('POST', `/admin/sagas/${orderId}/retry`);

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      orderId,
      status: 'COMPENSATING',
      attempt: 1,
      pending: ['payment', 'stock'],
      deadlineAt: expect.any(String),
    } satisfies Partial<SagaView>);
    const sent = await api.prisma.outbox.findMany({
      where: { aggregateId: orderId, type: { in: ['RefundPayment', 'ReleaseStock'] } },
      orderBy: { seq: 'asc' },
    });
    expect(sent.map((row) => row.type)).toEqual(['RefundPayment', 'ReleaseStock']);
    expect(new Set(sent.map((row) => row.correlationId))).toEqual(new Set([`corr-${orderId}`]));
    const steps = await api.prisma.sagaStep.findMany({ where: { orderId }, orderBy: { id: 'asc' } });
    expect(steps.map((s) => `${s.name}:${s.outcome}`)).toContain('order:retried');
    expect(await api.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).toMatchObject({
      status: 'PENDING',
    });
  });

  it('answers 409 problem+json for a saga with nothing to compensate, and changes nothing', async () => {
    const orderId = await aSaga('CONFIRMED');
    const response = await asAdmin('POST', `/admin/sagas/${orderId}/retry`);

    expect(response.status).toBe(409);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ status: 409, detail: expect.stringContaining('CONFIRMED') });
    expect(await api.prisma.outbox.count({ where: { aggregateId: orderId } })).toBe(2);
  });

  it.each([
    ['an order that does not exist', crypto.randomUUID()],
    ['an id that is not a uuid', 'not-an-id'],
  ])('answers 404 problem+json for %s', async (_, orderId) => {
    const response = await asAdmin('POST', `/admin/sagas/${orderId}/retry`);
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ status: 404, title: 'Order not found' });
  });
});

describe('GET /admin/sagas', () => {
  it('lists the sagas of one status, a bounded page at a time, with a cursor to the next page', async () => {
    const failed = [
      await aSaga('COMPENSATION_FAILED', ['stock']),
      await aSaga('COMPENSATION_FAILED', ['stock']),
      await aSaga('COMPENSATION_FAILED', ['stock']),
    ];
    await aSaga('CANCELLED');
    const ids: string[] = [];
    let after = '';
    for (;;) {
      const page = await asAdmin('GET', `/admin/sagas?status=COMPENSATION_FAILED&limit=2${after}`);
      expect(page.status).toBe(200);
      const { sagas, next } = page.body as SagaPage;
      expect(sagas.length).toBeLessThanOrEqual(2);
      for (const saga of sagas) expect(saga.status).toBe('COMPENSATION_FAILED');
      ids.push(...sagas.map((s) => s.orderId));
      if (next === null) break;
      after = `&after=${next}`;
    }
    for (const orderId of failed) expect(ids).toContain(orderId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each([
    ['a limit above 200', 'limit=201'],
    ['an unknown status', 'status=STUCK'],
    ['an unknown parameter', 'everything=1'],
  ])('refuses %s with 400', async (_, query) => {
    const response = await asAdmin('GET', `/admin/sagas?${query}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});

describe('pnpm saga', () => {
  const saga = (args: string[], adminToken: string | undefined = token) =>
    promisify(execFile)(process.execPath, [sagaCli, ...args], {
      env: { ...process.env, ORDER_API: api.url, ADMIN_TOKEN: adminToken ?? '' },
    });

  it('lists the COMPENSATION_FAILED sagas as JSON lines and retries one', async () => {
    const orderId = await aSaga('COMPENSATION_FAILED', ['payment', 'stock']);
    const listed = await saga(['list', '--status', 'COMPENSATION_FAILED', '--json']);
    const sagas = listed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as SagaView);
    expect(sagas.map((s) => s.orderId)).toContain(orderId);
    expect(new Set(sagas.map((s) => s.status))).toEqual(new Set(['COMPENSATION_FAILED']));

    const retried = await saga(['retry', orderId, '--json']);
    expect(JSON.parse(retried.stdout)).toMatchObject({ orderId, status: 'COMPENSATING', attempt: 1 });
  });

  it('exits non-zero with the reason when the token is refused', async () => {
    const orderId = await aSaga('COMPENSATION_FAILED', ['stock']);
    const refused = saga(['retry', orderId], 'not-the-admin-token-at-all');
    await expect(refused).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/answered 401/) });
  });
});
