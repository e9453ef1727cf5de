import { OutboxRelay } from '@order-saga/outbox';
import { TcpProxy, waitFor } from '@order-saga/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, readTopic, recordEntry, scenario, type Scenario } from './scenario.js';

// The relay's defaults: the server ends a silent leader session after 10 s; a standby retries the
// lock every second; becoming leader (LISTEN, ANALYZE, producer connect) and the first send take
// well under 3 s here. Failover bound = session timeout + lock retry + 3 s.
const SESSION_TIMEOUT_MS = 10_000;
const LEADER_RETRY_MS = 1000;
const FAILOVER_BOUND_MS = SESSION_TIMEOUT_MS + LEADER_RETRY_MS + 3000;

describe('relay leader behind a black-holed connection', () => {
  let s: Scenario;
  let proxy: TcpProxy;
  let leader: OutboxRelay;
  let standby: OutboxRelay;

  beforeAll(async () => {
    s = await scenario('blackhole');
    const db = new URL(s.databaseUrl);
    proxy = await new TcpProxy(db.hostname, Number(db.port || 5432)).start();
  });
  afterAll(async () => {
    proxy?.restore();
    await Promise.all([leader?.stop(), standby?.stop()]);
    await proxy?.close();
    await s?.dispose();
  });

  it('a standby publishes within the failover bound once the leader can no longer reach its database', async () => {
    const viaProxy = new URL(s.databaseUrl);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    leader = new OutboxRelay({ databaseUrl: viaProxy.toString(), kafka: s.kafka, pollIntervalMs: 200 });
    leader.start();
    await waitFor(() => leader.isLeader, { timeoutMs: 10_000 });
    standby = new OutboxRelay({ databaseUrl: s.databaseUrl, kafka: s.kafka, pollIntervalMs: 200 });
    standby.start();

    for (let i = 0; i < 10; i++) await recordEntry(s, `agg-${i % 3}`);
    await waitFor(() => leader.publishedCount === 10, { timeoutMs: 15_000 });
    expect(standby.isLeader).toBe(false);

    // Neither the relay nor PostgreSQL sees an error: both sockets stay open, bytes vanish.
    proxy.blackHole();
    const cutAt = Date.now();
    for (let i = 0; i < 10; i++) await recordEntry(s, `agg-${i % 3}`);

    await waitFor(() => standby.publishedCount === 10, {
      timeoutMs: FAILOVER_BOUND_MS,
      message: () =>
        `standby published ${standby.publishedCount} of 10 rows within ${FAILOVER_BOUND_MS} ms of the black hole (leader: ${leader.isLeader})`,
    });
    const failoverMs = Date.now() - cutAt;
    console.log(`failover after black hole: standby published everything ${failoverMs} ms after the cut`);
    // The old leader stopped on its own: it no longer claims to lead and sent nothing more.
    expect(leader.isLeader).toBe(false);
    expect(leader.publishedCount).toBe(10);
    expect(await countRows(s, 'SELECT count(*) AS n FROM outbox WHERE published_at IS NULL')).toBe(0);
    const messages = await readTopic(s.kafka, s.topic, (m) => new Set(m.map((x) => x.id)).size >= 20);
    expect(new Set(messages.map((m) => m.id)).size).toBe(20);
  });
});
