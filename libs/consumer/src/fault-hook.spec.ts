import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { holdAfterCommit, type HeldRun } from './fault-hook.js';

const run = { topic: 'payment.commands', partition: 2, messageIds: ['m1', 'm2'], offsets: ['41', '42'] };

/** Whether `work` is still pending after `ms`. */
const pendingAfter = async (work: Promise<unknown>, ms: number) =>
  Promise.race([work.then(() => false), sleep(ms).then(() => true)]);

describe('holdAfterCommit (the consumer-crash drill hook)', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'consumer-hold-'));
    path = join(dir, 'hold');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('does nothing while the trigger file is absent', async () => {
    const hook = holdAfterCommit(path, { pollMs: 5 });
    expect(await pendingAfter(hook(run), 200)).toBe(false);
    expect(existsSync(`${path}.held`)).toBe(false);
  });

  it('armed, announces the committed run with its offsets and holds it until released, once', async () => {
    const warnings: string[] = [];
    const hook = holdAfterCommit(path, { logger: { warn: (_, msg) => warnings.push(msg ?? '') }, pollMs: 5 });
    await writeFile(path, '');

    const held = hook(run);
    await expect.poll(() => existsSync(`${path}.held`)).toBe(true);
    expect(existsSync(path)).toBe(false);
    const announced = JSON.parse(await readFile(`${path}.held`, 'utf8')) as HeldRun;
    expect(announced).toEqual({ pid: process.pid, ...run });
    expect(warnings).toEqual(['drill hook: holding a committed run before committing its offsets']);
    expect(await pendingAfter(held, 300)).toBe(true);

    await unlink(`${path}.held`);
    expect(await pendingAfter(held, 1000)).toBe(false);
    expect(warnings).toHaveLength(2);
    expect(await pendingAfter(hook(run), 200)).toBe(false);
  });

  it('lets a run of duplicates only (nothing applied) through without using the trigger', async () => {
    const hook = holdAfterCommit(path, { pollMs: 5 });
    await writeFile(path, '');
    expect(await pendingAfter(hook({ ...run, messageIds: [], offsets: [] }), 200)).toBe(false);
    expect(existsSync(path)).toBe(true);
  });

  it('releases the run by itself after maxHoldMs when nobody kills the process', async () => {
    const hook = holdAfterCommit(path, { maxHoldMs: 300, pollMs: 5 });
    await writeFile(path, '');
    const started = Date.now();
    await hook(run);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(existsSync(`${path}.held`)).toBe(false);
  });
});
