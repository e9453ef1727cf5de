import 'reflect-metadata';
import { Writable } from 'node:stream';
import { Controller, Get, Logger as NestLogger, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWithMessageContext } from './correlation.js';
import { CORRELATION_HEADER, LoggingModule, createLogger } from './logger.js';
import { startTelemetry } from './sdk.js';
import { withSpan } from './trace-context.js';

function captured() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Record<string, unknown>),
      );
      done();
    },
  });
  return { lines, destination };
}

beforeAll(() => startTelemetry({ env: {} }));

describe('createLogger', () => {
  it('writes the active span and the message context on every line', async () => {
    const { lines, destination } = captured();
    const logger = createLogger({ service: 'payment', destination });

    const span = await withSpan('charge', {}, (active) =>
      runWithMessageContext({ correlationId: 'order-7', causationId: 'msg-1', messageId: 'msg-2' }, () => {
        logger.info('charging');
        return active.spanContext();
      }),
    );

    expect(lines[0]).toMatchObject({
      msg: 'charging',
      service: 'payment',
      trace_id: span.traceId,
      span_id: span.spanId,
      correlation_id: 'order-7',
      causation_id: 'msg-1',
      message_id: 'msg-2',
    });
  });

  it('leaves the ids out when there is no span or message', () => {
    const { lines, destination } = captured();
    createLogger({ service: 'payment', destination }).info('idle');
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(lines[0]).not.toHaveProperty('correlation_id');
  });

  it('reads the ids at each line, not when the logger was made', async () => {
    const { lines, destination } = captured();
    const logger = createLogger({ service: 'payment', destination });
    runWithMessageContext({ correlationId: 'a' }, () => logger.info('first'));
    runWithMessageContext({ correlationId: 'b' }, () => logger.info('second'));
    expect(lines.map((line) => line['correlation_id'])).toEqual(['a', 'b']);
  });

  it('honours the level', () => {
    const { lines, destination } = captured();
    const logger = createLogger({ service: 'payment', level: 'warn', destination });
    logger.info('hidden');
    logger.warn('shown');
    expect(lines.map((line) => line['msg'])).toEqual(['shown']);
  });
});

describe('log formats', () => {
  const orderId = '3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e6f';
  const correlationId = '9d8c7b6a-5f4e-4d3c-8b2a-0f1e2d3c4b5a';

  /** One record, as a handled message writes it, through a logger of the given format. */
  function writeTheRecord(format: 'json' | 'pretty'): string {
    let text = '';
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString('utf8');
        done();
      },
    });
    const logger = createLogger({ service: 'inventory', destination, format, colorize: false });
    runWithMessageContext({ correlationId, messageId: 'msg-1' }, () =>
      logger.info(
        { orderId, type: 'ReserveStock', topic: 'inventory.commands', offset: '42', attempt: 1 },
        'handled ReserveStock',
      ),
    );
    return text;
  }

  it('json keeps every field of the record, ids in full', () => {
    const lines = writeTheRecord('json').trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({
      level: 30,
      time: expect.any(Number),
      service: 'inventory',
      correlation_id: correlationId,
      message_id: 'msg-1',
      orderId,
      type: 'ReserveStock',
      topic: 'inventory.commands',
      offset: '42',
      attempt: 1,
      msg: 'handled ReserveStock',
    });
  });

  it('pretty is one line: time, service, level, message, then the ends of the order and correlation ids', () => {
    const [line, ...rest] = writeTheRecord('pretty').split('\n');
    expect(rest, 'one line, ended by its newline').toEqual(['']);
    expect(line).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} inventory INFO: handled ReserveStock order=3c4d5e6f type=ReserveStock corr=2d3c4b5a$/,
    );
  });
});

describe('LoggingModule', () => {
  const { lines, destination } = captured();
  let app: INestApplication;
  let base: string;

  @Controller('orders')
  class OrdersController {
    private readonly logger = new NestLogger('OrdersController');

    @Get()
    async list(): Promise<string[]> {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return withSpan('list orders', {}, () => {
        this.logger.log('listing orders');
        return [];
      });
    }

    @Post()
    place(): { placed: true } {
      return { placed: true };
    }
  }

  beforeAll(async () => {
    app = await NestFactory.create(
      {
        module: class AppModule {},
        imports: [LoggingModule.forRoot({ service: 'order', destination })],
        controllers: [OrdersController],
      },
      { bufferLogs: true },
    );
    app.useLogger(app.get(Logger));
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });

  afterAll(() => app?.close());

  const linesFor = (correlationId: string) =>
    lines.filter((line) => line['correlation_id'] === correlationId);

  it('runs a request in the correlation id its caller sent, and echoes it back', async () => {
    const response = await fetch(`${base}/orders`, { headers: { [CORRELATION_HEADER]: 'checkout-123' } });
    expect(response.headers.get(CORRELATION_HEADER)).toBe('checkout-123');

    const appLine = linesFor('checkout-123').find((line) => line['msg'] === 'listing orders');
    expect(appLine).toMatchObject({
      service: 'order',
      context: 'OrdersController',
      trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
  });

  it('gives a request without the header a new uuid', async () => {
    const response = await fetch(`${base}/orders`);
    const correlationId = response.headers.get(CORRELATION_HEADER)!;
    expect(correlationId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(linesFor(correlationId).map((line) => line['msg'])).toContain('listing orders');
  });

  it('replaces a header that could forge log fields with a new uuid', async () => {
    const response = await fetch(`${base}/orders`, { headers: { [CORRELATION_HEADER]: 'x","level":60' } });
    expect(response.headers.get(CORRELATION_HEADER)).toMatch(/^[0-9a-f-]{36}$/);
  });

  const completedLine = (id: string) =>
    lines.find((line) => line['msg'] === 'request completed' && (line['req'] as { id?: string })?.id === id);

  it('logs the completed request with its correlation id', async () => {
    await fetch(`${base}/orders`, { method: 'POST', headers: { [CORRELATION_HEADER]: 'completed-1' } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const completed = completedLine('completed-1');
    expect(completed, JSON.stringify(lines.slice(-3))).toBeDefined();
    expect(completed!['correlation_id']).toBe('completed-1');
  });

  it('logs a successful read below info, so that a client polling an order does not drown the log', async () => {
    const response = await fetch(`${base}/orders`, { headers: { [CORRELATION_HEADER]: 'read-1' } });
    expect(response.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(completedLine('read-1')).toBeUndefined();
  });
});
