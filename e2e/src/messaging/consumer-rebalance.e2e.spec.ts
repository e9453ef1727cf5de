import { OutboxRelay } from '@order-saga/outbox';
import { waitFor, type TestProcess } from '@order-saga/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, effectCounts, scenario, startConsumer, writeEntries, type Scenario } from './scenario.js';

describe('consumer group rebalances while messages flow', () => {
  let s: Scenario;
  let relay: OutboxRelay;
  let a: TestProcess;
  let b: TestProcess;

  beforeAll(async () => {
    s = await scenario('rebalance');
    relay = new OutboxRelay({ databaseUrl: s.databaseUrl, kafka: s.kafka, pollIntervalMs: 200 });
    relay.start();
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await relay?.stop();
    await s?.dispose();
  });

  const appliedBy = (label: string) =>
    countRows(s, 'SELECT count(*) AS n FROM effect WHERE consumer = $1', label);

  it('applies every message once and each aggregate in order when members join and leave', async () => {
    const count = 3000;
    await writeEntries(s, { count, aggregates: 30, writers: 4 });
    // Slow handlers keep batches in progress while the partitions move.
    a = startConsumer(s, { HANDLER_DELAY_MS: '2', EFFECT_LABEL: 'a' }, 'consumer-a');
    await waitFor(async () => (await effectCounts(s)).total >= 300, {
      timeoutMs: 60_000,
      message: () => a.logs.slice(-3000),
    });

    b = startConsumer(s, { HANDLER_DELAY_MS: '2', EFFECT_LABEL: 'b' }, 'consumer-b');
    await waitFor(async () => (await appliedBy('b')) > 0, {
      timeoutMs: 60_000,
      message: () => `A:\n${a.logs.slice(-2500)}\nB:\n${b.logs.slice(-2500)}`,
    });
    const beforeLeave = (await effectCounts(s)).total;
    expect(beforeLeave).toBeLessThan(count);

    // A leaves cleanly: its partitions go back to B, starting after what A finished.
    await a.stop();
    await waitFor(async () => (await effectCounts(s)).distinct === count, {
      timeoutMs: 120_000,
      message: () => b.logs.slice(-3000),
    });
    await new Promise((r) => setTimeout(r, 1000));

    expect(await effectCounts(s)).toEqual({ total: count, distinct: count, maxPerMessage: 1 });
    expect(await appliedBy('a')).toBeGreaterThan(0);
    expect(await appliedBy('b')).toBeGreaterThan(0);
    // Effects were applied in each aggregate's order, across both members.
    const outOfOrder = await countRows(
      s,
      `SELECT count(*) AS n FROM (
         SELECT seq, lag(seq) OVER (PARTITION BY aggregate_id ORDER BY id) AS previous FROM effect) x
        WHERE seq <= previous`,
    );
    expect(outOfOrder).toBe(0);
  });
});
