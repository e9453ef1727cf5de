import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// Runs the compiled benchmark (the test command builds first), as `pnpm bench:messaging` does.
const bench = fileURLToPath(new URL('../../dist/bench/messaging.bench.js', import.meta.url));

describe('messaging benchmark', () => {
  // Speed is never asserted: only that every figure was measured and printed.
  it('measures and prints every figure in a quick run', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--enable-source-maps', bench, '--quick', '--json'],
      {
        timeout: 120_000,
        maxBuffer: 10 * 1024 * 1024,
      },
    );
    const json = stdout.split('\n').find((line) => line.startsWith('{"bench":"messaging"'));
    expect(json, stdout).toBeDefined();
    const figures = JSON.parse(json!);

    for (const name of [
      'rawProducerPerSecond',
      'relayPerSecond',
      'consumerPerSecond',
      'rawConsumerPerSecond',
      'pgbenchPerSecond',
    ]) {
      expect(figures[name], name).toBeGreaterThan(0);
    }
    for (const latency of [figures.outboxLatencyMs, figures.rawLatencyMs]) {
      expect(latency.count).toBeGreaterThan(0);
      expect(latency.p50Ms).toBeGreaterThan(0);
      expect(latency.p99Ms).toBeGreaterThanOrEqual(latency.p50Ms);
      expect(latency.maxMs).toBeGreaterThanOrEqual(latency.p99Ms);
    }
    expect(figures.relayRatio).toBeCloseTo(figures.relayPerSecond / figures.rawProducerPerSecond);
    expect(figures.consumerRatio).toBeCloseTo(
      figures.consumerPerSecond / Math.min(figures.rawConsumerPerSecond, figures.pgbenchPerSecond),
    );
    expect(stdout).toMatch(/^figure\s+value\s+target\s+met$/m);
    expect(stdout).toMatch(/^machine: \d+ cores/m);
  });
});
