import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConsoleConfig } from '../config.js';
import { createConsoleServer, type ConsoleServer } from '../server.js';

// The supervisor's GET /processes as ./scripts/start's control surface answers it.
const processes = [
  { name: 'order', group: 'order', pid: 4242, state: 'running', restarts: 0, port: 3000, lastExit: null, nextStartInMs: null },
  { name: 'payment', group: 'payment', pid: null, state: 'backoff', restarts: 3, port: 3002, lastExit: { code: null, signal: 'SIGKILL' }, nextStartInMs: 1500 },
];

describe('the System page’s processes', () => {
  let supervisor: Server;
  let supervisorUrl: string;
  let console_: ConsoleServer;
  let base: string;

  beforeAll(async () => {
    supervisor = createServer((request, response) => {
      if (request.url !== '/processes') return response.writeHead(404).end();
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(processes));
    });
    await new Promise<void>((resolve) => supervisor.listen(0, '127.0.0.1', resolve));
    supervisorUrl = `http://127.0.0.1:${(supervisor.address() as AddressInfo).port}`;
    const config = loadConsoleConfig({
      SERVICE_NAME: 'console',
      KAFKA_BROKERS: '127.0.0.1:9',
      // Nothing answers on port 9: the other parts of the page report their error.
      ORDER_API_URL: 'http://127.0.0.1:9',
      ORDER_VIEW_URL: 'http://127.0.0.1:9',
      PROMETHEUS_URL: 'http://127.0.0.1:9',
      SUPERVISOR_URL: supervisorUrl,
    });
    console_ = createConsoleServer(config, new Kafka({ clientId: 'console-supervisor-spec', brokers: ['127.0.0.1:9'] }), '/nonexistent');
    await new Promise<void>((resolve) => console_.server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(console_.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await console_?.close();
    await new Promise<void>((resolve) => (supervisor?.listening ? supervisor.close(() => resolve()) : resolve()));
  });

  it('the_system_api_passes_on_every_supervised_process_with_its_state_and_restarts', async () => {
    const body = (await (await fetch(`${base}/api/system`)).json()) as { supervisor: unknown };
    expect(body.supervisor).toEqual({ url: supervisorUrl, running: true, processes });
  });

  it('says_the_supervisor_does_not_answer_once_it_stopped', async () => {
    await new Promise<void>((resolve) => supervisor.close(() => resolve()));
    const body = (await (await fetch(`${base}/api/system`)).json()) as { supervisor: unknown };
    expect(body.supervisor).toMatchObject({ url: supervisorUrl, running: false, error: expect.any(String) });
  });
});
