import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor, type TestProcess } from '@order-saga/testing';
import {
  firstDeliveries,
  outOfOrderAggregates,
  readTopic,
  recordEntry,
  scenario,
  startRelay,
  type Scenario,
} from './scenario.js';

const acknowledged = (p: TestProcess) => (p.logs.match(/batch acknowledged/g) ?? []).length;

describe('two relays on one database', () => {
  let s: Scenario;
  let a: TestProcess;
  let b: TestProcess;

  beforeAll(async () => {
    s = await scenario('failover');
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await s?.dispose();
  });

  it('lets only the leader publish, and the standby takes over when the leader is killed', async () => {
    a = startRelay(s, { BATCH_SIZE: '50' }, 'relay-a');
    await a.waitForOutput(/is the leader/);
    b = startRelay(s, { BATCH_SIZE: '50' }, 'relay-b');
    await b.waitForOutput(/relay-b started/);

    let written = 0;
    const writeSome = async (n: number) => {
      for (let i = 0; i < n; i++) await recordEntry(s, `agg-${written++ % 20}`);
    };
    await writeSome(1000);
    await waitFor(async () => (await s.prisma.outbox.count({ where: { publishedAt: null } })) === 0, {
      timeoutMs: 30_000,
    });
    expect(acknowledged(a)).toBeGreaterThan(0);
    expect(acknowledged(b)).toBe(0);
    expect(b.logs).not.toMatch(/is the leader/);

    // Kill the leader while writes continue; the standby must take over.
    const writing = writeSome(2000);
    await new Promise((r) => setTimeout(r, 300));
    await a.kill('SIGKILL');
    await writing;
    await b.waitForOutput(/is the leader/, 30_000);
    await waitFor(async () => (await s.prisma.outbox.count({ where: { publishedAt: null } })) === 0, {
      timeoutMs: 30_000,
    });
    expect(acknowledged(b)).toBeGreaterThan(0);

    const messages = await readTopic(s.kafka, s.topic, (m) => new Set(m.map((x) => x.id)).size >= 3000);
    expect(firstDeliveries(messages)).toHaveLength(3000);
    expect(outOfOrderAggregates(messages)).toEqual([]);
  });
});
