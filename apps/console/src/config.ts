import { describeEnv, envVar, loadConfig, serviceEnv, type CamelCased } from '@order-saga/config';
import { z } from 'zod';

const httpUrl = z.url({ protocol: /^https?$/ });

/**
 * The console has no database of its own: it reads the other services' HTTP APIs and the broker,
 * and keeps received spans in memory. The admin token is only ever compared with what an operator
 * types and forwarded to the order API; it is never sent to the browser.
 */
export const consoleEnv = serviceEnv
  .pick({ KAFKA_BROKERS: true, KAFKA_TOPIC_PREFIX: true, LOG_LEVEL: true, ADMIN_TOKEN: true })
  .extend({
    SERVICE_NAME: envVar(z.literal('console'), {
      description: 'which service this process runs',
      expected: 'console',
      example: 'console',
    }),
    HTTP_PORT: envVar(z.string().regex(/^\d+$/).transform(Number).pipe(z.int().min(0).max(65535)).default(3005), {
      description: 'port of the console (page, API, server-sent events, OTLP receiver)',
      expected: 'an integer 0–65535',
      example: '3005',
    }),
    CONSOLE_BIND_HOST: envVar(z.string().min(1).default('127.0.0.1'), {
      description: 'address the console listens on; anything but loopback exposes reading to the network',
      expected: 'an IP address',
      example: '127.0.0.1',
    }),
    ORDER_API_URL: envVar(httpUrl.default('http://127.0.0.1:3000'), {
      description: 'base URL of the order API (admin endpoints, /metrics)',
      expected: 'an http(s) URL',
      example: 'http://127.0.0.1:3000',
    }),
    ORDER_VIEW_URL: envVar(httpUrl.default('http://127.0.0.1:3004'), {
      description: 'base URL of order-view (the read side)',
      expected: 'an http(s) URL',
      example: 'http://127.0.0.1:3004',
    }),
    JAEGER_UI_URL: envVar(httpUrl.optional(), {
      description: "Jaeger's UI, for links to a trace where Jaeger runs",
      expected: 'an http(s) URL',
      example: 'http://127.0.0.1:16686',
    }),
    PROMETHEUS_URL: envVar(httpUrl.default('http://127.0.0.1:9090'), {
      description: "Prometheus with the alert rules (./scripts/start --observe, compose): the System page shows its firing alerts, or that it does not answer",
      expected: 'an http(s) URL',
      example: 'http://127.0.0.1:9090',
    }),
    SUPERVISOR_URL: envVar(httpUrl.default('http://127.0.0.1:3900'), {
      description: "the control surface of ./scripts/start's supervisor: the System page lists its processes (state, pid, restarts), or says it does not answer",
      expected: 'an http(s) URL',
      example: 'http://127.0.0.1:3900',
    }),
    CONSOLE_DRILLS: envVar(z.enum(['on', 'off']).default('on'), {
      description: 'whether an admin may run the failure drills (pnpm drill) from the Drills page; they need the e2e build and a PostgreSQL superuser',
      expected: 'on or off',
      example: 'off',
    }),
    JAEGER_QUERY_URL: envVar(httpUrl.optional(), {
      description: "Jaeger's query API as the console reaches it: when set, the order page reads each trace from Jaeger instead of the spans the console received itself",
      expected: 'an http(s) URL',
      example: 'http://jaeger:16686',
    }),
    CONSOLE_SPAN_RETENTION_MINUTES: envVar(z.string().regex(/^\d+$/).transform(Number).pipe(z.int().min(1)).default(30), {
      description: 'how long the console keeps the spans it receives over OTLP',
      expected: 'an integer ≥ 1',
      example: '30',
    }),
  });

export type ConsoleConfig = CamelCased<z.output<typeof consoleEnv>>;

/** The console's variables, which scripts/check-compose.mjs checks its compose service against. */
export const ENV_VARIABLES = describeEnv(consoleEnv);

export function loadConsoleConfig(env: NodeJS.ProcessEnv = process.env): ConsoleConfig {
  return loadConfig(consoleEnv, env);
}
