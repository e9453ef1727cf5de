import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromJaeger, jaegerTrace, type JaegerTrace } from './jaeger-traces.js';

// Jaeger's own fixture of its query API's JSON (jaegertracing/jaeger,
// model/converter/json/fixtures/ui_01.json, Apache-2.0), trimmed to the fields read here, with
// one span.kind tag added as the OpenTelemetry → Jaeger translation writes it.
const fixture: JaegerTrace = {
  traceID: '0000000000000001',
  spans: [
    {
      traceID: '0000000000000001',
      spanID: '2',
      operationName: 'some-operation',
      references: [],
      startTime: 1485467191639875,
      duration: 5,
      tags: [
        { key: 'peer.service', value: 'service-y' },
        { key: 'error', value: true },
        { key: 'span.kind', value: 'server' },
      ],
      processID: 'p1',
    },
    {
      traceID: '0000000000000001',
      spanID: '4',
      operationName: 'reference-test',
      references: [
        { refType: 'CHILD_OF', traceID: '00000000000000ff', spanID: 'ff' },
        { refType: 'CHILD_OF', traceID: '0000000000000001', spanID: '2' },
        { refType: 'FOLLOWS_FROM', traceID: '0000000000000001', spanID: '2' },
      ],
      startTime: 1485467191639880,
      duration: 4000,
      tags: [],
      processID: 'p2',
    },
  ],
  processes: { p1: { serviceName: 'service-x' }, p2: { serviceName: 'service-y' } },
};

describe('traces read from Jaeger', () => {
  it('maps_a_jaeger_trace_to_the_spans_of_the_waterfall_with_parents_services_kinds_and_errors', () => {
    expect(fromJaeger(fixture, 0)).toEqual([
      {
        traceId: '00000000000000000000000000000001',
        spanId: '0000000000000002',
        parentSpanId: null,
        name: 'some-operation',
        service: 'service-x',
        kind: 2,
        startMs: 1485467191639.875,
        durationMs: 0.005,
        error: true,
        receivedAt: 0,
      },
      {
        traceId: '00000000000000000000000000000001',
        spanId: '0000000000000004',
        // The CHILD_OF in its own trace: the reference into trace ff is a link, not its parent.
        parentSpanId: '0000000000000002',
        name: 'reference-test',
        service: 'service-y',
        kind: 0,
        startMs: 1485467191639.88,
        durationMs: 4,
        error: false,
        receivedAt: 0,
      },
    ]);
  });

  describe('over HTTP', () => {
    let server: Server;
    let url: string;
    beforeAll(async () => {
      server = createServer((request, response) => {
        if (request.url === '/api/traces/00000000000000000000000000000001') {
          response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: [fixture] }));
        } else response.writeHead(404, { 'content-type': 'application/json' }).end('{"data":null,"errors":[{"code":404,"msg":"trace not found"}]}');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('reads_a_trace_by_id', async () => {
      const spans = await jaegerTrace(url, '00000000000000000000000000000001');
      expect(spans.map((s) => `${s.service} ${s.name}`)).toEqual(['service-x some-operation', 'service-y reference-test']);
    });

    it('a_trace_jaeger_does_not_know_yet_has_no_spans_rather_than_an_error', async () => {
      expect(await jaegerTrace(url, '0000000000000000000000000000abcd')).toEqual([]);
    });
  });
});
