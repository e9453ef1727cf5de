import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '@order-saga/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const libDir = fileURLToPath(new URL('..', import.meta.url));
const workspace = fileURLToPath(new URL('../../..', import.meta.url));
const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

interface Run {
  stdout: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
  line(text: string): Promise<void>;
}

// A real `node --import @order-saga/telemetry/register` process: the ESM loader hook only
// matters when Node itself loads the application, which an in-process test would not show.
function runFixture(service: string, env: Record<string, string>): Run {
  const child = spawn(
    process.execPath,
    ['--import', '@order-saga/telemetry/register', 'src/register.fixture.mjs'],
    {
      cwd: libDir,
      env: {
        ...process.env,
        OTEL_SERVICE_NAME: '',
        SERVICE_NAME: service,
        DATABASE_URL,
        OTEL_EXPORTER_OTLP_ENDPOINT: '',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const stdout: string[] = [];
  let stderr = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout.push(...chunk.split('\n').filter(Boolean));
    for (const waiter of waiters) if (stdout.includes(waiter.text)) waiter.resolve();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = once(child, 'exit').then(([code, signal]) => {
    if (code) throw new Error(`fixture exited with ${code}: ${stderr}`);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null };
  });
  return {
    stdout,
    exit,
    kill: (signal) => child.kill(signal),
    line: (text) => new Promise((resolve) => waiters.push({ text, resolve })),
  };
}

const ofService = (service: string) => (spans: readonly ReceivedSpan[]) =>
  spans.filter((span) => span.service === service);

describe('node --import @order-saga/telemetry/register', () => {
  let receiver: OtlpReceiver;

  beforeAll(async () => {
    // The register hook runs as compiled JavaScript, exactly as services start it.
    execFileSync(process.execPath, ['node_modules/typescript-native/bin/tsc', '-b', 'libs/telemetry'], {
      cwd: workspace,
      stdio: 'inherit',
    });
    receiver = await startOtlpReceiver();
  });

  afterAll(() => receiver?.close());

  it('traces an ESM app: http server and client spans and a pg span, in one trace', async () => {
    const run = runFixture('traced-app', {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    await run.exit;
    expect(JSON.parse(run.stdout[0]!)).toMatchObject({
      one: 1,
      traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/),
    });

    const spans = ofService('traced-app')(
      await receiver.waitForSpans((all) => ofService('traced-app')(all).length >= 3),
    );
    const client = spans.find((span) => span.kind === 'client' && span.name === 'GET');
    const server = spans.find((span) => span.kind === 'server');
    const query = spans.find((span) => span.name.includes('SELECT'));

    expect(client, JSON.stringify(spans)).toBeDefined();
    expect(server?.parentSpanId).toBe(client!.spanId);
    expect(server?.traceId).toBe(client!.traceId);
    expect(query, JSON.stringify(spans.map((span) => span.name))).toBeDefined();
    expect(query!.attributes['db.system.name'] ?? query!.attributes['db.system']).toBe('postgresql');
    expect(query?.parentSpanId).toBe(server!.spanId);
    expect(query?.traceId).toBe(client!.traceId);
    // Only statements inside a trace get a span; a pool checkout is never one.
    expect(spans.filter((span) => span.name.includes('SELECT')).map((span) => span.parentSpanId)).toEqual([
      server!.spanId,
    ]);
    expect(spans.map((span) => span.name)).not.toContainEqual(expect.stringMatching(/connect/));
  });

  it('flushes batched spans on SIGTERM, then exits by that signal', async () => {
    const run = runFixture('terminated-app', {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      // Far beyond the test's length: only the shutdown flush can deliver these spans.
      OTEL_BSP_SCHEDULE_DELAY: '600000',
      WAIT_FOR_SIGNAL: '1',
    });
    await run.line('ready');
    expect(ofService('terminated-app')(receiver.spans())).toEqual([]);

    run.kill('SIGTERM');
    expect(await run.exit).toEqual({ code: null, signal: 'SIGTERM' });
    expect(ofService('terminated-app')(receiver.spans()).length).toBeGreaterThanOrEqual(3);
  });

  it('exports nothing without OTEL_EXPORTER_OTLP_ENDPOINT, yet still propagates trace context', async () => {
    // The SDK on its own would export to this per-signal endpoint; ours must not.
    const run = runFixture('unexported-app', {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.endpoint}/v1/traces`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    await run.exit;
    expect(JSON.parse(run.stdout[0]!).traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(ofService('unexported-app')(receiver.spans())).toEqual([]);
  });
});
