import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meter, metricReadersFromEnv } from './metrics.js';
import { shutdownTelemetry, startTelemetry } from './sdk.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// The exporter's server starts listening a moment after the SDK starts.
async function scrape(url: string, deadline = Date.now() + 5_000): Promise<string> {
  try {
    return await (await fetch(url)).text();
  } catch (error) {
    if (Date.now() > deadline) throw error;
    await new Promise((resolve) => setTimeout(resolve, 50));
    return scrape(url, deadline);
  }
}

describe('metrics', () => {
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    startTelemetry({ env: { METRICS_PORT: String(port), SERVICE_NAME: 'order' } });
  });

  afterAll(() => shutdownTelemetry());

  it('exposes counters on /metrics at METRICS_PORT for Prometheus to scrape', async () => {
    const failures = meter('order-saga').createCounter('saga_compensation_failed_total', {
      description: 'compensations that failed',
    });
    failures.add(1, { step: 'release_stock' });
    failures.add(1, { step: 'release_stock' });

    const text = await scrape(`http://127.0.0.1:${port}/metrics`);
    expect(text).toMatch(/^saga_compensation_failed_total\{.*step="release_stock".*\} 2/m);
  });
});

describe('metricReadersFromEnv', () => {
  it('adds no reader without METRICS_PORT, so nothing is pushed to an absent collector', () => {
    expect(metricReadersFromEnv({})).toEqual([]);
  });

  it('refuses a METRICS_PORT that is not a port', () => {
    expect(() => metricReadersFromEnv({ METRICS_PORT: 'nine' })).toThrow(
      /METRICS_PORT: invalid \(got "nine"\)/,
    );
  });
});
