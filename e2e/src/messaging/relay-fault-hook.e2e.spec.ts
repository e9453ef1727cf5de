import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OutboxRelay, holdAfterSend, type HeldBatch } from '@order-saga/outbox';
import { waitFor } from '@order-saga/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTopic, scenario, writeEntries, type Scenario } from './scenario.js';

const marked = async (s: Scenario, ids: string[]) =>
  s.prisma.outbox.count({ where: { id: { in: ids }, publishedAt: { not: null } } });

describe('the relay-crash drill hook (OUTBOX_RELAY_FAULT_HOLD_AFTER_SEND)', () => {
  let s: Scenario;
  let relay: OutboxRelay | undefined;
  let dir: string;

  beforeAll(async () => {
    s = await scenario('relayhook');
    dir = await mkdtemp(join(tmpdir(), 'relay-hold-'));
  });
  afterAll(async () => {
    await relay?.stop();
    await s?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('holds a batch after the broker acknowledged it and before it is marked, until released', async () => {
    const path = join(dir, 'hold');
    await writeEntries(s, { count: 60, aggregates: 6, writers: 2 });
    await writeFile(path, '');
    relay = new OutboxRelay({
      databaseUrl: s.databaseUrl,
      kafka: s.kafka,
      batchSize: 20,
      pollIntervalMs: 200,
      afterSend: holdAfterSend(path, { pollMs: 10 }),
    });
    relay.start();
    await waitFor(() => existsSync(`${path}.held`), { timeoutMs: 30_000 });
    const held = JSON.parse(await readFile(`${path}.held`, 'utf8')) as HeldBatch;
    expect(held.messageIds).toHaveLength(20);

    // Acknowledged: every held message is on the topic. Not marked: none is published in the table.
    const onTopic = await readTopic(s.kafka, s.topic, (m) =>
      held.messageIds.every((id) => m.some((x) => x.id === id)),
    );
    expect(onTopic.filter((m) => held.messageIds.includes(m.id))).toHaveLength(20);
    expect(await marked(s, held.messageIds)).toBe(0);
    // Still held a while later: nothing marked, nothing else sent behind it.
    await sleep(1000);
    expect(await marked(s, held.messageIds)).toBe(0);
    expect(relay.publishedCount).toBe(0);

    await unlink(`${path}.held`);
    await waitFor(async () => (await marked(s, held.messageIds)) === 20, { timeoutMs: 10_000 });
    // One-shot: the rest flows without another hold.
    await waitFor(() => relay!.publishedCount === 60, { timeoutMs: 30_000 });
    expect(existsSync(`${path}.held`)).toBe(false);
  });
});
