import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SagaSystem, terminal } from './system.js';

// What `pnpm order` runs (package.json), without pnpm's own lines around its output.
const cli = fileURLToPath(new URL('../../../apps/order/dist/cli/order.cli.js', import.meta.url));

function order(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [cli, ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('pnpm order, against the four services', () => {
  let system: SagaSystem;

  beforeAll(async () => {
    system = await SagaSystem.start('order-cli', { LOG_FORMAT: 'json' });
  });
  afterAll(async () => {
    await system?.stop();
  });

  it('place --watch prints every step GET /orders/:id shows, then the terminal status', async () => {
    const { code, stdout, stderr } = await order(['place', '--watch', '--customer', 'carol'], {
      ORDER_API: system.api,
    });
    expect(code, stderr).toBe(0);

    const orderId = /^placed order ([0-9a-f-]{36}) \(idempotency key [0-9a-f-]{36}\)$/m.exec(stdout)?.[1];
    expect(orderId, stdout).toBeDefined();
    const view = await system.order(orderId!);
    expect(terminal).toContain(view.status);

    const lines = stdout.trimEnd().split('\n');
    const steps = lines
      .filter((line) => /^\s+\+\d/.test(line))
      .map((line) => line.trim().split(/\s+/).slice(1, 3));
    expect(steps).toEqual(view.steps.map((step) => [step.name, step.outcome]));
    expect(lines.at(-1)).toMatch(
      new RegExp(`^${view.status} after \\d+\\.\\d{3}s: 2 × widget, total 20\\.00`),
    );
  });

  it('no service writes a warning or an error, from its start-up through an order', () => {
    // Anything that is not one of the service's JSON lines (a Node warning, a library's own print)
    // counts, as does any line at warn (40) or above. Before the next test: a 4xx answer is a warn.
    const isProblem = (line: string) => {
      let record: { level?: unknown };
      try {
        record = JSON.parse(line) as { level?: unknown };
      } catch {
        return true;
      }
      return typeof record.level !== 'number' || record.level >= 40;
    };
    for (const [service, process] of system.processes) {
      expect(process.logs.split('\n').filter(Boolean).filter(isProblem), service).toEqual([]);
    }
  });

  it('an API error exits non-zero with the reason of its problem+json', async () => {
    const unknownSku = await order(['place', '--sku', 'no-such-thing'], { ORDER_API: system.api });
    expect(unknownSku.code).toBe(1);
    expect(unknownSku.stderr).toContain(
      'POST /orders answered 422 Unknown sku: Not in the catalogue: no-such-thing.',
    );

    const noOrder = await order(['watch', '00000000-0000-4000-8000-000000000000'], { ORDER_API: system.api });
    expect(noOrder.code).toBe(1);
    expect(noOrder.stderr).toContain('answered 404 Order not found');
  });
});
