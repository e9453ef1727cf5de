import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HeldRun } from '@order-saga/consumer';
import { OutboxRelay } from '@order-saga/outbox';
import { waitFor, type TestProcess } from '@order-saga/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, effectCounts, scenario, startConsumer, writeEntries, type Scenario } from './scenario.js';

describe('the consumer-crash drill hook (CONSUMER_FAULT_HOLD_AFTER_COMMIT)', () => {
  let s: Scenario;
  let relay: OutboxRelay;
  let consumer: TestProcess | undefined;
  let dir: string;

  /** The ledger group's committed offset of a partition (-1: none yet). */
  const committed = async (partition: number): Promise<number> => {
    const admin = s.kafka.admin();
    await admin.connect();
    try {
      const [topic] = await admin.fetchOffsets({ groupId: `${s.prefix}ledger`, topics: [s.topic] });
      return Number(topic?.partitions.find((p) => p.partition === partition)?.offset ?? -1);
    } finally {
      await admin.disconnect();
    }
  };
  const heldIn = async (path: string) => {
    await waitFor(() => existsSync(`${path}.held`), {
      timeoutMs: 60_000,
      message: () => consumer?.logs.slice(-3000) ?? '',
    });
    return JSON.parse(await readFile(`${path}.held`, 'utf8')) as HeldRun;
  };
  const applied = (ids: string[]) =>
    countRows(s, 'SELECT count(*) AS n FROM effect WHERE message_id = ANY($1::uuid[])', ids);

  beforeAll(async () => {
    s = await scenario('consumerhook');
    dir = await mkdtemp(join(tmpdir(), 'consumer-hold-'));
    relay = new OutboxRelay({ databaseUrl: s.databaseUrl, kafka: s.kafka, pollIntervalMs: 200 });
    relay.start();
  });
  afterAll(async () => {
    await consumer?.stop();
    await relay?.stop();
    await s?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('holds an applied run with its offsets uncommitted; killed there, the run is delivered again and applied once', async () => {
    const path = join(dir, 'hold');
    await writeEntries(s, { count: 300, aggregates: 10, writers: 2 });
    await writeFile(path, '');
    consumer = startConsumer(s, { CONSUMER_FAULT_HOLD_AFTER_COMMIT: path });

    // Held once released: committed in the database, and its offsets committed only afterwards.
    const first = await heldIn(path);
    expect(first.pid).toBe(consumer.pid);
    expect(first.messageIds.length).toBeGreaterThan(0);
    expect(await applied(first.messageIds)).toBe(first.messageIds.length);
    // Well past the committer's interval (100 ms): nothing of the run may be committed.
    await sleep(1500);
    expect(await committed(first.partition)).toBeLessThanOrEqual(Number(first.offsets[0]));
    await unlink(`${path}.held`);
    await waitFor(async () => (await committed(first.partition)) > Number(first.offsets.at(-1)), {
      timeoutMs: 30_000,
    });

    // Armed again, and killed -9 while it holds.
    await writeFile(path, '');
    await writeEntries(s, { count: 300, aggregates: 10, writers: 2 });
    const second = await heldIn(path);
    expect(second.pid).toBe(consumer.pid);
    expect(await applied(second.messageIds)).toBe(second.messageIds.length);
    await sleep(500);
    await consumer.kill('SIGKILL');
    const atKill = await committed(second.partition);
    expect(atKill).toBeLessThanOrEqual(Number(second.offsets[0]));

    // The restarted consumer starts at the committed offset, before the held run: committing
    // past it means it was delivered again, and the inbox kept it to one effect per message.
    consumer = startConsumer(s, {}, 'consumer-restarted');
    await waitFor(async () => (await committed(second.partition)) > Number(second.offsets.at(-1)), {
      timeoutMs: 90_000,
      message: () => consumer!.logs.slice(-3000),
    });
    await waitFor(async () => (await effectCounts(s)).distinct === 600, { timeoutMs: 60_000 });
    await sleep(1000);
    expect(await effectCounts(s)).toEqual({ total: 600, distinct: 600, maxPerMessage: 1 });
    expect(existsSync(path)).toBe(false);
  });
});
