import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@order-saga/testing';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anOrder, SagaSystem, services } from '../saga/system.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const output = `${repoRoot}/docs/observability-prometheus.png`;
const prometheusPort = 19_090;

// The figures the README's screenshot shows, one graph each.
const graphs = [
  'sum by (outcome) (increase(saga_duration_seconds_count[1m]))',
  'sum by (group) (max by (group, topic, partition) (consumer_lag_messages))',
  'max by (service) (outbox_unpublished_rows)',
];

/**
 * Renders docs/observability-prometheus.png from a real run: the four services, Debian's
 * Prometheus scraping them with the project's alert rules, orders placed for a few minutes with
 * inventory stopped for a while, and Prometheus' graph page in Debian's Chromium. Not part of
 * the suite (it takes minutes); regenerate with
 * `OBSERVABILITY_SCREENSHOT=1 pnpm vitest run e2e/src/observability/screenshot.e2e.spec.ts`.
 */
describe.runIf(process.env['OBSERVABILITY_SCREENSHOT'])('README screenshot of Prometheus', () => {
  let system: SagaSystem;
  let prometheus: ChildProcess;
  const dir = mkdtempSync(join(tmpdir(), 'order-saga-prometheus-'));

  beforeAll(async () => {
    system = await SagaSystem.start('screenshot', { SAGA_STEP_TIMEOUT_MS: '120000' });
    const targets = services
      .map((s) => `      - targets: ['127.0.0.1:${system.ports.get(s)}']\n        labels: { service: ${s} }`)
      .join('\n');
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global: { scrape_interval: 2s, evaluation_interval: 5s }
rule_files: ['${repoRoot}/observability/prometheus/alerts.yml']
scrape_configs:
  - job_name: order-saga
    static_configs:
${targets}
`,
    );
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${prometheusPort}`,
      ],
      { stdio: 'ignore' },
    );
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${prometheusPort}/-/ready`).catch(() => null))?.ok === true,
      { timeoutMs: 30_000, intervalMs: 500 },
    );
  });
  afterAll(async () => {
    prometheus?.kill('SIGTERM');
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('renders the graph page after a few minutes of orders', { timeout: 600_000 }, async () => {
    const place = async (minutes: number) => {
      const until = Date.now() + minutes * 60_000;
      while (Date.now() < until) {
        // Some orders ask for more than the stock: the saga's other ending shows too.
        await system.place(anOrder({ items: [{ sku: 'widget', quantity: Math.random() < 0.2 ? 200_000 : 1 }] }));
        await new Promise((resolve) => setTimeout(resolve, 400));
      }
    };
    await place(1.5);
    await system.kill('inventory');
    await place(0.75);
    await system.startService('inventory');
    await place(1.5);

    const query = graphs
      .map((expr, i) => `g${i}.expr=${encodeURIComponent(expr)}&g${i}.tab=0&g${i}.range_input=5m`)
      .join('&');
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1600 } });
      await page.goto(`http://127.0.0.1:${prometheusPort}/graph?${query}`, { waitUntil: 'networkidle' });
      await page.waitForTimeout(2000);
      await page.screenshot({ path: output, fullPage: true });
    } finally {
      await browser.close();
    }
    expect(output).toBeTruthy();
  });
});
