import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@order-saga/testing';
import { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConsoleConfig } from '../config.js';
import { createConsoleServer, type ConsoleServer } from '../server.js';

// Debian's Prometheus (./scripts/start --observe installs it) with the project's own alert rules,
// scraping a target that reports dead letters: the DeadLetters rule fires, and the System page's
// API passes it on. Skipped where Prometheus is not installed.
const PROMETHEUS = '/usr/bin/prometheus';
const rules = fileURLToPath(new URL('../../../../observability/prometheus/alerts.yml', import.meta.url));

describe.skipIf(!existsSync(PROMETHEUS))('alerts from a real Prometheus', () => {
  const dir = mkdtempSync(join(tmpdir(), 'console-prometheus-'));
  let target: Server;
  let prometheus: ChildProcess;
  let console_: ConsoleServer;
  let base: string;
  let prometheusUrl: string;

  beforeAll(async () => {
    target = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      response.end('# TYPE dead_letter_messages gauge\ndead_letter_messages{topic="t.inventory.commands.dlt"} 2\n');
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: ['${rules}']`,
        'scrape_configs:',
        '  - job_name: order-saga',
        `    static_configs: [{ targets: ['127.0.0.1:${(target.address() as AddressInfo).port}'], labels: { service: order } }]`,
      ].join('\n'),
    );
    prometheus = spawn(
      PROMETHEUS,
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: 'ignore' },
    );
    const config = loadConsoleConfig({
      SERVICE_NAME: 'console',
      KAFKA_BROKERS: '127.0.0.1:9',
      // Nothing answers on port 9: the other parts of the page report their error.
      ORDER_API_URL: 'http://127.0.0.1:9',
      ORDER_VIEW_URL: 'http://127.0.0.1:9',
      PROMETHEUS_URL: prometheusUrl,
    });
    console_ = createConsoleServer(config, new Kafka({ clientId: 'console-alerts-spec', brokers: ['127.0.0.1:9'] }), '/nonexistent');
    await new Promise<void>((resolve) => console_.server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(console_.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    prometheus?.kill('SIGTERM');
    await console_?.close();
    await new Promise<void>((resolve) => (target ? target.close(() => resolve()) : resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('the_system_api_shows_the_alerts_prometheus_fires_with_their_summary', async () => {
    let alerts: unknown;
    await expect
      .poll(
        async () => {
          const body = (await (await fetch(`${base}/api/system`)).json()) as { prometheus: { running: boolean; alerts?: { labels: Record<string, string>; state: string }[] } };
          alerts = body.prometheus;
          return body.prometheus.alerts?.some((a) => a.labels.alertname === 'DeadLetters' && a.state === 'firing') === true;
        },
        { timeout: 60_000, interval: 500, message: 'a DeadLetters alert firing' },
      )
      .toBe(true);
    expect(alerts).toMatchObject({
      url: prometheusUrl,
      running: true,
      alerts: expect.arrayContaining([
        expect.objectContaining({
          labels: expect.objectContaining({ alertname: 'DeadLetters', severity: 'warn', topic: 't.inventory.commands.dlt' }),
          annotations: expect.objectContaining({ summary: '2 dead letters on t.inventory.commands.dlt waiting for a decision' }),
          state: 'firing',
        }),
      ]),
    });
  });

  it('says_prometheus_is_not_running_once_it_stopped', async () => {
    prometheus.kill('SIGTERM');
    await new Promise((resolve) => prometheus.once('exit', resolve));
    const body = (await (await fetch(`${base}/api/system`)).json()) as { prometheus: unknown };
    expect(body.prometheus).toMatchObject({ url: prometheusUrl, running: false, error: expect.stringContaining('unreachable') });
  });
});
