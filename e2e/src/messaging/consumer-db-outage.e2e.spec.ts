import { OutboxRelay } from '@order-saga/outbox';
import { TcpProxy, waitFor, type TestProcess } from '@order-saga/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { effectCounts, scenario, startConsumer, writeEntries, type Scenario } from './scenario.js';

describe("consumer's database unavailable", () => {
  let s: Scenario;
  let relay: OutboxRelay;
  let consumer: TestProcess;
  let proxy: TcpProxy;

  beforeAll(async () => {
    s = await scenario('dboutage');
    relay = new OutboxRelay({ databaseUrl: s.databaseUrl, kafka: s.kafka, pollIntervalMs: 200 });
    relay.start();
    const url = new URL(s.databaseUrl);
    proxy = await new TcpProxy(url.hostname, Number(url.port || 5432)).start();
  });
  afterAll(async () => {
    await consumer?.stop();
    await relay?.stop();
    await proxy?.close();
    await s?.dispose();
  });

  it('waits out 20 s of refused connections: nothing dead-lettered, everything applied once afterwards', async () => {
    const viaProxy = new URL(s.databaseUrl);
    viaProxy.port = String(proxy.port);
    // Waits between two tries (up to the back-off cap, 10 s as in the services) longer than the
    // session timeout: without heartbeats during the waits the member would lose its place.
    consumer = startConsumer(s, {
      DATABASE_URL: viaProxy.toString(),
      MAX_BACKOFF_MS: '10000',
      SESSION_TIMEOUT_MS: '6000',
      TRANSACTION_TIMEOUT_MS: '5000',
    });
    await writeEntries(s, { count: 500, aggregates: 10, writers: 4 });
    await waitFor(async () => (await effectCounts(s)).total === 500, {
      timeoutMs: 60_000,
      message: () => consumer.logs.slice(-3000),
    });

    const joins = () => consumer.logs.match(/joined its group/g)?.length ?? 0;
    const joinsBefore = joins();
    expect(joinsBefore).toBeGreaterThan(0);
    proxy.cut();
    await writeEntries(s, { count: 1000, aggregates: 10, writers: 4 });
    await new Promise((r) => setTimeout(r, 20_000));
    expect(consumer.running).toBe(true);
    expect(consumer.logs).toMatch(/waiting out/);
    // Twice the session timeout without a database: the member heartbeats through its back-off
    // waits and keeps its place in the group (no rejoin).
    expect(joins()).toBe(joinsBefore);
    proxy.restore();

    await waitFor(async () => (await effectCounts(s)).distinct === 1500, {
      timeoutMs: 90_000,
      message: () => consumer.logs.slice(-3000),
    });
    expect(await effectCounts(s)).toEqual({ total: 1500, distinct: 1500, maxPerMessage: 1 });
    // Nothing went to the dead-letter topic.
    const admin = s.kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(s.dlt);
    await admin.disconnect();
    expect(offsets.every((p) => p.high === p.low)).toBe(true);
    expect(consumer.logs).not.toMatch(/dead-lettered/);
  });
});
