import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  Injectable,
  Module,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestMiddleware,
  type NestModule,
} from '@nestjs/common';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { LoggerModule } from 'nestjs-pino';
import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import { currentMessageContext, runWithMessageContext } from './correlation.js';

/** Options of {@link createLogger} and {@link LoggingModule.forRoot}. */
export interface LoggerOptions {
  /** Written as `service` on every line. */
  service: string;
  /** pino level; defaults to `LOG_LEVEL`, then `info`. */
  level?: Level | 'silent';
  /** Where lines go; stdout when absent. Tests pass a stream they can read. */
  destination?: DestinationStream;
}

/** The header a caller may set to tie its request to its own logs; echoed on the response. */
export const CORRELATION_HEADER = 'x-correlation-id';

/**
 * The fields that tie a log line to its trace and its business flow: `trace_id` and `span_id`
 * of the active span, `correlation_id` (and `causation_id`, `message_id`) of the message context.
 * Keys are left out when there is nothing to put in them.
 */
export function correlationFields(): Record<string, string> {
  const fields: Record<string, string> = {};
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (spanContext && isSpanContextValid(spanContext)) {
    fields['trace_id'] = spanContext.traceId;
    fields['span_id'] = spanContext.spanId;
  }
  const message = currentMessageContext();
  if (message) {
    fields['correlation_id'] = message.correlationId;
    if (message.causationId) fields['causation_id'] = message.causationId;
    if (message.messageId) fields['message_id'] = message.messageId;
  }
  return fields;
}

function pinoOptions(options: LoggerOptions) {
  return {
    level: options.level ?? process.env['LOG_LEVEL'] ?? 'info',
    base: { service: options.service },
    // A mixin runs per line, at the moment of logging: the ids are those of the span and message
    // being handled then, not of whoever created the logger.
    mixin: correlationFields,
  };
}

/**
 * A JSON logger (pino) for code outside Nest's DI (workers, CLIs, libs). Every line carries
 * `service` and {@link correlationFields}.
 */
export function createLogger(options: LoggerOptions): Logger {
  return options.destination ? pino(pinoOptions(options), options.destination) : pino(pinoOptions(options));
}

// Caller-chosen ids land in every log line: bound their size and alphabet so a header cannot
// forge log fields or bloat every line.
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function correlationIdOf(request: IncomingMessage): string {
  const header = request.headers[CORRELATION_HEADER];
  const value = Array.isArray(header) ? header[0] : header;
  return value && ACCEPTABLE_ID.test(value) ? value : randomUUID();
}

@Injectable()
class CorrelationMiddleware implements NestMiddleware {
  use(request: IncomingMessage & { id?: unknown }, response: ServerResponse, next: () => void): void {
    // pino-http may have run first and already assigned the id; reuse it so both agree.
    const correlationId = typeof request.id === 'string' ? request.id : correlationIdOf(request);
    request.id = correlationId;
    response.setHeader(CORRELATION_HEADER, correlationId);
    runWithMessageContext({ correlationId }, next);
  }
}

/**
 * Nest logging: `nestjs-pino` with the same JSON lines as {@link createLogger}. Each HTTP request
 * gets a correlation id from the `x-correlation-id` header (or a new UUID), returned in the same
 * response header, and runs inside that message context, so everything it logs or sends carries
 * the id. Use with `app.useLogger(app.get(Logger))` from `nestjs-pino`.
 */
@Module({})
export class LoggingModule implements NestModule {
  static forRoot(options: LoggerOptions): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: [
            {
              ...pinoOptions(options),
              // One short line per request: method, path, status, time. Full headers on every line
              // cost a fifth of the order service's CPU under load (saga benchmark profile).
              serializers: {
                req: (req: { id?: unknown; method?: string; url?: string }) => ({
                  id: req.id,
                  method: req.method,
                  url: req.url,
                }),
                res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
              },
              // Health probes every second would drown the lines that matter.
              autoLogging: { ignore: (req: IncomingMessage) => req.url === '/health' },
              genReqId: (request, response) => {
                const correlationId = correlationIdOf(request);
                response.setHeader(CORRELATION_HEADER, correlationId);
                return correlationId;
              },
              quietReqLogger: true,
              // pino-http logs request headers; credentials must not reach the log store.
              redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
            },
            options.destination ?? pino.destination(1),
          ],
        }),
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(CorrelationMiddleware).forRoutes('{*splat}');
  }
}
