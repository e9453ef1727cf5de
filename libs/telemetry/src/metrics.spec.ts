import { createServer, type Server } from 'node:http';
import { parsePrometheusText } from '@order-saga/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meter, prometheusReaderFromEnv, serveMetrics } from './metrics.js';
import { shutdownTelemetry, startTelemetry } from './sdk.js';

describe('metrics', () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    startTelemetry({ env: { SERVICE_NAME: 'order' } });
    // What a service's HTTP side does for GET /metrics: no port of its own.
    server = createServer((req, res) => serveMetrics(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/metrics`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await shutdownTelemetry();
  });

  it('serves counters in the Prometheus text format through the service own HTTP handler', async () => {
    const failures = meter('order-saga').createCounter('saga_compensation_failed_total', {
      description: 'compensations that failed',
    });
    failures.add(1, { step: 'release_stock' });
    failures.add(1, { step: 'release_stock' });

    const response = await fetch(url);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const families = parsePrometheusText(await response.text());
    const counter = families.find((f) => f.name === 'saga_compensation_failed_total');
    expect(counter?.type).toBe('COUNTER');
    expect(counter?.metrics).toEqual([
      expect.objectContaining({ labels: expect.objectContaining({ step: 'release_stock' }), value: '2' }),
    ]);
  });
});

describe('prometheusReaderFromEnv', () => {
  it('refuses a METRICS_PORT that is not a port', () => {
    expect(() => prometheusReaderFromEnv({ METRICS_PORT: 'nine' })).toThrow(
      /METRICS_PORT: invalid \(got "nine"\)/,
    );
  });
});
