import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  Injectable,
  Module,
  type DynamicModule,
  type LoggerService,
  type MiddlewareConsumer,
  type NestMiddleware,
  type NestModule,
} from '@nestjs/common';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { LoggerModule } from 'nestjs-pino';
import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import { build as prettyStream, type PrettyOptions } from 'pino-pretty';
import { currentMessageContext, runWithMessageContext } from './correlation.js';

/** Options of {@link createLogger} and {@link LoggingModule.forRoot}. */
export interface LoggerOptions {
  /** Written as `service` on every line. */
  service: string;
  /** pino level; defaults to `LOG_LEVEL`, then `info`. */
  level?: Level | 'silent';
  /** Where lines go; stdout when absent. Tests pass a stream they can read. */
  destination?: DestinationStream;
  /**
   * `json` (one object per line, every field: for machines and log stores) or `pretty` (one short
   * coloured line: for a person at a terminal). Defaults to `LOG_FORMAT`, then `json`.
   */
  format?: LogFormat;
  /** Colours in the `pretty` format; defaults to whether the terminal supports them. */
  colorize?: boolean;
}

/** The two shapes of a log line; see {@link LoggerOptions.format}. */
export type LogFormat = 'json' | 'pretty';

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

// The end of an id, not its start: a UUIDv7 (order ids) starts with its timestamp, the same for
// every order placed within a minute.
const short = (id: unknown) => (typeof id === 'string' ? id.slice(-8) : undefined);

const COLOURS = ['cyan', 'yellow', 'magenta', 'green', 'blue'] as const;
type Colour = (typeof COLOURS)[number];
// The colours ./scripts/start gives these services' other lines; another name gets one by hash.
const SERVICE_COLOURS: Record<string, Colour> = {
  inventory: 'cyan',
  order: 'yellow',
  payment: 'magenta',
  shipping: 'green',
};

function serviceColour(service: string): Colour {
  let hash = 0;
  for (const char of service) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return SERVICE_COLOURS[service] ?? COLOURS[hash % COLOURS.length]!;
}

interface LogRecord {
  service?: string;
  orderId?: unknown;
  aggregateId?: unknown;
  type?: unknown;
  correlation_id?: unknown;
  reason?: unknown;
  err?: { message?: unknown };
  req?: { method?: unknown; url?: unknown };
  res?: { statusCode?: unknown };
  responseTime?: unknown;
}

/**
 * pino-pretty's options for the `pretty` format: `time service LEVEL message`, then the few
 * fields a person follows an order by, ids cut to their last 8 characters (the JSON format keeps
 * them whole).
 */
function prettyOptions(colorize?: boolean): PrettyOptions {
  return {
    ...(colorize !== undefined ? { colorize } : {}),
    translateTime: 'SYS:HH:MM:ss.l',
    // Everything the line needs is in messageFormat; the rest stays in the JSON format. Not
    // singleLine: with hideObject, pino-pretty 13 then ends the line without its newline.
    hideObject: true,
    customPrettifiers: {
      time: (time) => String(time),
      // Here rather than in messageFormat so that the service comes before the level.
      level: (_level, _key, log, { colors, labelColorized }) => {
        const service = String((log as LogRecord).service ?? '');
        return `${colors[serviceColour(service)](service.padEnd(9))} ${labelColorized}`;
      },
    },
    messageFormat: (log, messageKey, _level, { colors }) => {
      const record = log as LogRecord;
      const message =
        record.req && record.res
          ? `${String(record.req.method)} ${String(record.req.url)} ${String(record.res.statusCode)} ${String(record.responseTime)}ms`
          : String(log[messageKey] ?? '');
      const fields = [
        ['order', short(record.orderId ?? record.aggregateId)],
        ['type', record.type],
        ['corr', short(record.correlation_id)],
        ['reason', record.reason],
        ['error', record.err?.message],
      ]
        .filter(([, value]) => value !== undefined && value !== null && value !== '')
        .map(([key, value]) => `${String(key)}=${String(value)}`);
      return fields.length > 0 ? `${message} ${colors.dim(fields.join(' '))}` : message;
    },
  };
}

function formatOf(options: LoggerOptions): LogFormat {
  return (options.format ?? process.env['LOG_FORMAT']) === 'pretty' ? 'pretty' : 'json';
}

/** Where pino writes: the destination (stdout by default), through pino-pretty when pretty. */
function streamOf(options: LoggerOptions): DestinationStream {
  // Asynchronous: a line is handed to the kernel at once when nothing is being written, and lines
  // logged while a write is in flight go out together in the next one, so a service handling
  // thousands of messages a second makes a few large writes instead of one blocking write per
  // line. pino flushes what is left when the process exits; a kill -9 can lose the last lines.
  const destination = options.destination ?? pino.destination({ dest: 1, sync: false });
  if (formatOf(options) === 'json') return destination;
  return prettyStream({ ...prettyOptions(options.colorize), destination, sync: true });
}

/**
 * A logger (pino) for code outside Nest's DI (workers, CLIs, libs). Every line carries `service`
 * and {@link correlationFields}; JSON or pretty as {@link LoggerOptions.format} says.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(pinoOptions(options), streamOf(options));
}

// Nest's own account of starting up: which modules loaded, which routes were mapped. Useful when
// debugging the wiring, noise on every start; the service logs one line when it listens.
const NEST_START_UP_CONTEXTS = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
  'NestMicroservice',
]);

/**
 * Wraps Nest's application logger so that Nest's start-up lines (module init, route mapping,
 * "successfully started") are written at debug instead of info. Everything else passes through.
 *
 * @example app.useLogger(quietNestStartUp(app.get(Logger)));
 */
export function quietNestStartUp(logger: LoggerService): LoggerService {
  const contextOf = (params: unknown[]) => params[params.length - 1];
  return {
    log: (message: unknown, ...params: unknown[]) =>
      NEST_START_UP_CONTEXTS.has(contextOf(params) as string) && logger.debug
        ? logger.debug(message, ...params)
        : logger.log(message, ...params),
    error: (message: unknown, ...params: unknown[]) => logger.error(message, ...params),
    warn: (message: unknown, ...params: unknown[]) => logger.warn(message, ...params),
    debug: (message: unknown, ...params: unknown[]) => logger.debug?.(message, ...params),
    verbose: (message: unknown, ...params: unknown[]) => logger.verbose?.(message, ...params),
    fatal: (message: unknown, ...params: unknown[]) => logger.fatal?.(message, ...params),
  };
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
 * Nest logging: `nestjs-pino` with the same lines as {@link createLogger}. Each HTTP request
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
              // pino-http's levels, except that a successful read is debug: a client polling an
              // order (`pnpm order watch`) would otherwise drown the saga's own lines.
              customLogLevel: (req: IncomingMessage, res: ServerResponse, error?: Error) =>
                error || res.statusCode >= 500
                  ? 'error'
                  : res.statusCode >= 400
                    ? 'warn'
                    : req.method === 'GET'
                      ? 'debug'
                      : 'info',
              genReqId: (request, response) => {
                const correlationId = correlationIdOf(request);
                response.setHeader(CORRELATION_HEADER, correlationId);
                return correlationId;
              },
              quietReqLogger: true,
              // pino-http logs request headers; credentials must not reach the log store.
              redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
            },
            streamOf(options),
          ],
        }),
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(CorrelationMiddleware).forRoutes('{*splat}');
  }
}
