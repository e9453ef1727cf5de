import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { replayDeadLetters, type DeadLetterFilter } from '@order-saga/consumer';
import { deadLetterTopic, topicKeys, topicName } from '@order-saga/contracts';
import type { Kafka } from 'kafkajs';
import type { ConsoleConfig } from './config.js';
import { DeadLetterReader } from './dead-letters/dead-letter-reader.js';
import { DrillBusy, drillEnvironment, DrillRunner, UnknownDrill } from './drills/drill-runner.js';
import { callJson, metricSamples, UpstreamError } from './http/upstream.js';
import { LiveFeed } from './live/live-feed.js';
import { cookie, CSRF_HEADER, SESSION_COOKIE, Sessions } from './session/sessions.js';
import { jaegerTrace } from './traces/jaeger-traces.js';
import { decodeTraceRequest, OtlpDecodeError } from './traces/otlp-protobuf.js';
import { SpanStore, type ExportTraceServiceRequest } from './traces/span-store.js';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

// The page loads only its own scripts and styles and talks only to its own origin: a message
// payload that slipped into the DOM as markup could still not run or phone home.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const LIST_PARAMS = ['status', 'customerId', 'sku', 'placedFrom', 'placedTo', 'limit', 'cursor'];

export interface ConsoleServer {
  server: Server;
  spans: SpanStore;
  close(): Promise<void>;
}

/** Where the drill CLI is; without it (or with CONSOLE_DRILLS=off) the Drills page only says why. */
export interface DrillOptions {
  cli: string;
  /** The checkout the CLI runs in. */
  cwd: string;
}

/**
 * The console's HTTP server: the built page, the console's own JSON API under /api (reading is
 * open, actions need an admin session), server-sent events at /api/events, and an OTLP/HTTP
 * receiver (JSON or protobuf) at /v1/traces for local runs.
 */
export function createConsoleServer(
  config: ConsoleConfig,
  kafka: Kafka,
  webRoot: string,
  drillOptions?: DrillOptions,
): ConsoleServer {
  const spans = new SpanStore(config.consoleSpanRetentionMinutes * 60_000);
  const sessions = new Sessions(config.adminToken);
  const prefix = config.kafkaTopicPrefix ?? '';
  const deadLetterTopics = topicKeys.map((key) => deadLetterTopic(topicName(key, prefix)));
  const deadLetters = new DeadLetterReader(kafka);
  const view = (path: string) => callJson(`${config.orderViewUrl}${path}`);
  const live = new LiveFeed(view);
  const drills =
    config.consoleDrills === 'on' && drillOptions
      ? new DrillRunner({ ...drillOptions, env: drillEnvironment(config.kafkaBrokers) }, (run) => live.publish('drill', run))
      : undefined;

  async function api(request: IncomingMessage, url: URL, response: ServerResponse): Promise<unknown> {
    const path = url.pathname;
    const method = request.method ?? 'GET';
    const sessionId = cookie(request.headers.cookie, SESSION_COOKIE);

    if (method === 'GET' && path === '/api/session') {
      const csrf = sessions.csrfOf(sessionId);
      return { actionsEnabled: sessions.enabled, signedIn: csrf !== undefined, csrf: csrf ?? null };
    }
    if (method === 'POST' && path === '/api/session') {
      const body = (await jsonBody(request)) as { token?: unknown };
      const session = sessions.open(typeof body.token === 'string' ? body.token : '');
      if (!session) throw new HttpError(sessions.enabled ? 401 : 403, sessions.enabled ? 'wrong admin token' : 'actions are disabled: ADMIN_TOKEN is not set');
      response.setHeader(
        'set-cookie',
        `${SESSION_COOKIE}=${session.id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=28800`,
      );
      return { actionsEnabled: true, signedIn: true, csrf: session.csrf };
    }

    // The services' exporters, not an operator: spans are data to show, not an action.
    if (method === 'POST' && path === '/v1/traces') {
      const type = request.headers['content-type'] ?? '';
      if (type.startsWith('application/x-protobuf')) {
        try {
          spans.add(decodeTraceRequest(await body(request, 16_000_000)));
        } catch (error) {
          if (error instanceof OtlpDecodeError) throw new HttpError(400, error.message);
          throw error;
        }
        return {};
      }
      if (!type.startsWith('application/json')) {
        throw new HttpError(415, 'OTLP/HTTP with application/json or application/x-protobuf only');
      }
      spans.add((await jsonBody(request, 16_000_000)) as ExportTraceServiceRequest);
      return {};
    }
    if (method !== 'GET') {
      const csrf = request.headers[CSRF_HEADER];
      if (!sessions.authorizes(sessionId, typeof csrf === 'string' ? csrf : undefined)) {
        throw new HttpError(401, 'this action needs the admin token: sign in first');
      }
    }
    if (method === 'DELETE' && path === '/api/session') {
      sessions.close(sessionId);
      response.setHeader('set-cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
      return { actionsEnabled: sessions.enabled, signedIn: false, csrf: null };
    }

    if (method === 'GET' && path === '/api/orders') {
      const query = new URLSearchParams();
      for (const name of LIST_PARAMS) {
        const value = url.searchParams.get(name);
        if (value) query.set(name, value);
      }
      return view(`/orders?${query}`);
    }
    const order = /^\/api\/orders\/([0-9a-f-]{36})$/.exec(path);
    if (method === 'GET' && order) {
      const detail = (await view(`/orders/${order[1]}`)) as { timeline: { traceId: string | null }[] };
      const traceIds = [...new Set(detail.timeline.map((t) => t.traceId).filter((t): t is string => !!t))];
      return {
        ...detail,
        traces: await Promise.all(
          traceIds.map(async (traceId) => {
            const jaegerUrl = config.jaegerUiUrl ? `${config.jaegerUiUrl}/trace/${traceId}` : null;
            if (!config.jaegerQueryUrl) return { traceId, jaegerUrl, spans: spans.trace(traceId), error: null };
            // In compose the services export to Jaeger, not to the console: the spans are there.
            try {
              return { traceId, jaegerUrl, spans: await jaegerTrace(config.jaegerQueryUrl, traceId), error: null };
            } catch (error) {
              return { traceId, jaegerUrl, spans: [], error: `Jaeger: ${(error as Error).message}` };
            }
          }),
        ),
      };
    }
    if (method === 'GET' && path === '/api/stats') {
      const window = url.searchParams.get('window') ?? '15m';
      return view(`/stats?window=${encodeURIComponent(window)}`);
    }
    if (method === 'GET' && path === '/api/failed-sagas') {
      const overdueMinutes = 5;
      const [failed, pending] = (await Promise.all([
        view('/orders?status=COMPENSATION_FAILED&limit=100'),
        view(`/orders?status=PENDING&limit=100&placedTo=${new Date(Date.now() - overdueMinutes * 60_000).toISOString()}`),
      ])) as { items: unknown[] }[];
      return { overdueAfterMinutes: overdueMinutes, failed: failed!.items, overdue: pending!.items };
    }
    const retry = /^\/api\/sagas\/([0-9a-f-]{36})\/retry$/.exec(path);
    if (method === 'POST' && retry) {
      return callJson(`${config.orderApiUrl}/admin/sagas/${retry[1]}/retry`, {
        method: 'POST',
        headers: { authorization: `Bearer ${config.adminToken}` },
      });
    }
    if (method === 'GET' && path === '/api/system') return system();
    if (method === 'GET' && path === '/api/drills') return drillList();
    if (method === 'POST' && path === '/api/drills/run') {
      if (!drills?.available) throw new HttpError(503, (await drillList()).unavailable ?? 'drills are not available');
      const { name, quick } = (await jsonBody(request)) as { name?: unknown; quick?: unknown };
      if (typeof name !== 'string') throw new HttpError(400, 'name: expected the name of a drill');
      try {
        return await drills.start(name, quick !== false);
      } catch (error) {
        if (error instanceof DrillBusy) throw new HttpError(409, error.message);
        if (error instanceof UnknownDrill) throw new HttpError(404, error.message);
        throw error;
      }
    }
    if (method === 'GET' && path === '/api/dead-letters') {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const existing = new Set(await admin.listTopics());
        // Awaited here: a returned promise would let `finally` disconnect the admin client while
        // the offset requests were still on its connection ("Closed connection", every time).
        return await Promise.all(
          deadLetterTopics.map(async (topic) => {
            if (!existing.has(topic)) return { topic, messages: 0 };
            const offsets = await admin.fetchTopicOffsets(topic);
            return { topic, messages: offsets.reduce((n, p) => n + Number(BigInt(p.high) - BigInt(p.low)), 0) };
          }),
        );
      } finally {
        await admin.disconnect();
      }
    }
    const dlt = /^\/api\/dead-letters\/([\w.-]+)(\/replay)?$/.exec(path);
    // A name off by a character (a doubled dot after the topic prefix) must say so, not 404 quietly.
    if (dlt && !deadLetterTopics.includes(dlt[1]!)) {
      throw new HttpError(404, `${dlt[1]} is not a dead-letter topic of this console; it reads ${deadLetterTopics.join(', ')}`);
    }
    if (dlt) {
      if (method === 'GET' && !dlt[2]) return deadLetters.read(dlt[1]!, filterOf(url.searchParams));
      if (method === 'POST' && dlt[2]) {
        const filter = filterOf(new URLSearchParams((await jsonBody(request)) as Record<string, string>));
        const records = await deadLetters.read(dlt[1]!, filter);
        try {
          const replayed = await replayDeadLetters(kafka, records);
          return { replayed, positions: records.map((r) => `${r.partition}:${r.offset}`), error: null };
        } catch (error) {
          return { replayed: 0, positions: [], error: (error as Error).message };
        }
      }
    }
    throw new HttpError(404, `no ${method} ${path}`);
  }

  async function drillList(): Promise<{ unavailable: string | null; drills: unknown[]; run: unknown }> {
    if (!drills) return { unavailable: 'drills are switched off here (CONSOLE_DRILLS=off)', drills: [], run: null };
    if (!drills.available) {
      return { unavailable: 'the drill CLI is not built here (pnpm build builds e2e/dist/drills)', drills: [], run: null };
    }
    try {
      return { unavailable: null, drills: await drills.list(), run: drills.current() };
    } catch (error) {
      return { unavailable: `the drill CLI did not list its drills: ${(error as Error).message}`, drills: [], run: drills.current() };
    }
  }

  async function system(): Promise<unknown> {
    const [metrics, viewHealth, alerts, processes] = await Promise.allSettled([
      callJson(`${config.orderApiUrl}/metrics`),
      view('/health'),
      callJson(`${config.prometheusUrl}/api/v1/alerts`, {}, 2_000),
      // Reading the supervisor's list needs no token; changing a process does (pnpm system).
      callJson(`${config.supervisorUrl}/processes`, {}, 2_000),
    ]);
    const samples =
      metrics.status === 'fulfilled' && typeof metrics.value === 'string'
        ? metricSamples(metrics.value, [
            'outbox_unpublished_rows',
            'outbox_oldest_unpublished_age_seconds',
            'outbox_parked_rows',
            'outbox_relay_leader',
            'consumer_lag_messages',
            'consumer_lag_seconds',
            'retention_headroom_seconds',
          ])
        : [];
    return {
      orderMetrics: metrics.status === 'fulfilled' ? samples : { error: String((metrics.reason as Error).message) },
      orderView: viewHealth.status === 'fulfilled' ? viewHealth.value : { error: String((viewHealth.reason as Error).message) },
      prometheus:
        alerts.status === 'fulfilled'
          ? { url: config.prometheusUrl, running: true, alerts: (alerts.value as { data?: { alerts?: unknown[] } }).data?.alerts ?? [] }
          : { url: config.prometheusUrl, running: false, error: (alerts.reason as Error).message },
      supervisor:
        processes.status === 'fulfilled' && Array.isArray(processes.value)
          ? { url: config.supervisorUrl, running: true, processes: processes.value }
          : {
              url: config.supervisorUrl,
              running: false,
              error:
                processes.status === 'rejected'
                  ? (processes.reason as Error).message
                  : 'its /processes did not answer a list',
            },
      spansKept: spans.size(),
    };
  }

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://console');
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
    if (url.pathname === '/health' || url.pathname.startsWith('/health/')) {
      return sendJson(response, 200, { status: 'ok', service: 'console' });
    }
    if (url.pathname === '/api/events') return live.subscribe(request, response);
    if (url.pathname.startsWith('/api/') || url.pathname === '/v1/traces') {
      api(request, url, response)
        .then((body) => sendJson(response, 200, body))
        .catch((error: unknown) => {
          if (error instanceof HttpError) return sendJson(response, error.status, { message: error.message });
          if (error instanceof UpstreamError) return sendJson(response, error.status, { message: error.message, upstream: error.body });
          sendJson(response, 500, { message: (error as Error).message });
        });
      return;
    }
    serveStatic(webRoot, url.pathname, response);
  });

  return {
    server,
    spans,
    close: async () => {
      live.stop();
      drills?.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function filterOf(params: URLSearchParams): DeadLetterFilter {
  const filter: DeadLetterFilter = {};
  for (const key of ['type', 'aggregateId', 'messageId', 'position'] as const) {
    const value = params.get(key);
    if (value) filter[key] = value;
  }
  return filter;
}

/** The request's body, gunzipped when it says so; refused past `limit` bytes as sent. */
async function body(request: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks);
  return request.headers['content-encoding'] === 'gzip' ? promisify(gunzip)(raw) : raw;
}

async function jsonBody(request: IncomingMessage, limit = 10_000): Promise<unknown> {
  const text = await body(request, limit);
  if (text.length === 0) return {};
  try {
    return JSON.parse(text.toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not JSON');
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}

// Files of the built page; any other path is a route of the page itself, so it gets index.html.
function serveStatic(root: string, pathname: string, response: ServerResponse): void {
  const candidate = normalize(join(root, decodeURIComponent(pathname)));
  const file =
    candidate.startsWith(root) && existsSync(candidate) && statSync(candidate).isFile() ? candidate : join(root, 'index.html');
  if (!existsSync(file)) {
    response.writeHead(503, { 'content-type': 'text/plain' }).end('the page is not built: pnpm --filter @order-saga/console build:web');
    return;
  }
  const immutable = file.includes(`${join(root, 'assets')}`);
  response.writeHead(200, {
    'content-type': MIME[extname(file)] ?? 'application/octet-stream',
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  createReadStream(file).pipe(response);
}
