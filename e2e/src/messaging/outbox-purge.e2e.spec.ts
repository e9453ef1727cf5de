import { setTimeout as sleep } from 'node:timers/promises';
import { OutboxRelay } from '@order-saga/outbox';
import { waitFor } from '@order-saga/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, recordEntry, scenario, type Scenario } from './scenario.js';

const unpublished = (s: Scenario) =>
  countRows(s, 'SELECT count(*) AS n FROM outbox WHERE published_at IS NULL');
const expired = (s: Scenario) =>
  countRows(s, `SELECT count(*) AS n FROM outbox WHERE published_at < now() - interval '24 hours'`);

describe('outbox purge under sustained traffic', () => {
  let s: Scenario;
  let relay: OutboxRelay;

  beforeAll(async () => {
    s = await scenario('purge');
  });
  afterAll(async () => {
    await relay?.stop();
    await s?.dispose();
  });

  it('deletes published rows past retention while the relay never runs out of rows to send', async () => {
    // Traffic: a backlog the throttled relay needs several seconds to work through, so every
    // claim returns rows (the old relay purged only after finding none).
    for (let i = 0; i < 400; i++) await recordEntry(s, `agg-${i % 20}`);
    relay = new OutboxRelay({
      databaseUrl: s.databaseUrl,
      kafka: s.kafka,
      batchSize: 2,
      pollIntervalMs: 200,
      retentionHours: 24,
      purgeIntervalMs: 500,
      purgeBatchSize: 1000,
      afterSend: () => sleep(25),
    });
    relay.start();
    await waitFor(() => relay.publishedCount > 0, { timeoutMs: 10_000 });

    // History, added while the relay is busy: 3,000 rows published two days ago. Written
    // directly: the clock cannot be moved.
    await s.prisma.$executeRawUnsafe(
      `INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, topic, schema_version, correlation_id, published_at)
       SELECT gen_random_uuid(), aggregatetype, aggregateid, type, payload, topic, schema_version, correlation_id,
              now() - interval '48 hours'
         FROM (SELECT * FROM outbox LIMIT 1) o, generate_series(1, 3000)`,
    );
    expect(await expired(s)).toBe(3000);

    await waitFor(async () => (await expired(s)) === 0, {
      timeoutMs: 6000,
      message: () => 'published rows past retention were not purged while the relay was busy',
    });
    // Still busy when the purge finished: it did not wait for an idle relay.
    expect(await unpublished(s)).toBeGreaterThan(0);
    expect(relay.publishedCount).toBeGreaterThan(0);
  });
});
