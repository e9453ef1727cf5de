import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { holdAfterSend, type HeldBatch } from './fault-hook.js';

const batch = { messageIds: ['m1', 'm2', 'm3'], seqs: ['7', '8', '9'] };

/** Whether `work` is still pending after `ms`. */
const pendingAfter = async (work: Promise<unknown>, ms: number) =>
  Promise.race([work.then(() => false), sleep(ms).then(() => true)]);

describe('holdAfterSend (the relay-crash drill hook)', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'relay-hold-'));
    path = join(dir, 'hold');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('does nothing while the trigger file is absent', async () => {
    const hook = holdAfterSend(path, { pollMs: 5 });
    expect(await pendingAfter(hook(batch), 200)).toBe(false);
    expect(existsSync(`${path}.held`)).toBe(false);
  });

  it('armed, announces the batch and holds it until the drill removes the announcement, once', async () => {
    const warnings: string[] = [];
    const logger = { info() {}, warn: (_: object, msg?: string) => warnings.push(msg ?? ''), error() {} };
    const hook = holdAfterSend(path, { logger, pollMs: 5 });
    await writeFile(path, '');

    const held = hook(batch);
    await expect.poll(() => existsSync(`${path}.held`)).toBe(true);
    // Disarmed at once: a restarted process, or the next batch, runs normally.
    expect(existsSync(path)).toBe(false);
    const announced = JSON.parse(await readFile(`${path}.held`, 'utf8')) as HeldBatch;
    expect(announced).toEqual({ pid: process.pid, messageIds: batch.messageIds, seqs: batch.seqs });
    expect(warnings).toEqual(['drill hook: holding an acknowledged batch before marking it']);
    expect(await pendingAfter(held, 300)).toBe(true);

    await unlink(`${path}.held`);
    expect(await pendingAfter(held, 1000)).toBe(false);
    expect(warnings).toHaveLength(2);
    // Not armed again: the next batch goes through.
    expect(await pendingAfter(hook(batch), 200)).toBe(false);
  });

  it('lets an empty batch (every row parked) through without using the trigger', async () => {
    const hook = holdAfterSend(path, { pollMs: 5 });
    await writeFile(path, '');
    expect(await pendingAfter(hook({ messageIds: [], seqs: [] }), 200)).toBe(false);
    expect(existsSync(path)).toBe(true);
  });

  it('releases the batch by itself after maxHoldMs when nobody kills the process', async () => {
    const hook = holdAfterSend(path, { maxHoldMs: 300, pollMs: 5 });
    await writeFile(path, '');
    const started = Date.now();
    await hook(batch);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(existsSync(`${path}.held`)).toBe(false);
  });
});
