import { rename, stat, unlink, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AcknowledgedBatch, RelayLogger } from './relay.js';

/** How long a drill hook holds, and where it says so. */
export interface DrillHoldOptions {
  logger?: Pick<RelayLogger, 'warn'>;
  /** The hold ends by itself after this, when nobody killed the process. Default 60 s. */
  maxHoldMs?: number;
  /** How often the hold looks whether `<path>.held` is still there. Default 20 ms. */
  pollMs?: number;
}

/** What a process holds, as {@link holdIfArmed} announces and logs it. */
export interface DrillHold {
  /** Written to `<path>.held` as JSON, after the process id: what a drill needs to prove its fault. */
  announce: object;
  /** Fields of the two log lines. */
  fields: Record<string, unknown>;
  /** The log line when the hold starts, and when it ends. */
  holding: string;
  released: string;
}

/**
 * The mechanism of the FAILURE-DRILL HOOKS (test only): the relay's {@link holdAfterSend} and the
 * consumer's `holdAfterCommit` hold a process inside a window a millisecond wide, so that a drill
 * can kill -9 it there from outside.
 *
 * - Armed by the drill creating the file `<path>`. The hold removes it: only the remover holds,
 *   once (a restarted process, or the next call, runs normally until the drill arms it again).
 *   Not armed, it costs one failed `unlink` and returns false.
 * - It announces what it holds in `<path>.held` (JSON: `pid` and `hold.announce`, written whole)
 *   and a log line, then waits until `<path>.held` is removed (the drill releases it) or
 *   `maxHoldMs` passes, and returns true.
 */
export async function holdIfArmed(
  path: string,
  hold: DrillHold,
  options: DrillHoldOptions = {},
): Promise<boolean> {
  const maxHoldMs = options.maxHoldMs ?? 60_000;
  const pollMs = options.pollMs ?? 20;
  const held = `${path}.held`;
  // unlink is the check and the disarm in one step: no second holder, no armed restart.
  if (
    !(await unlink(path).then(
      () => true,
      () => false,
    ))
  )
    return false;
  await writeFile(`${held}.tmp`, JSON.stringify({ pid: process.pid, ...hold.announce }));
  await rename(`${held}.tmp`, held);
  const fields = { drillHook: path, ...hold.fields };
  options.logger?.warn(fields, hold.holding);
  const until = Date.now() + maxHoldMs;
  while (
    Date.now() < until &&
    (await stat(held).then(
      () => true,
      () => false,
    ))
  )
    await sleep(pollMs);
  await unlink(held).catch(() => undefined);
  options.logger?.warn(fields, hold.released);
  return true;
}

/** What {@link holdAfterSend} writes to `<path>.held` when it holds a batch. */
export interface HeldBatch {
  pid: number;
  messageIds: string[];
  seqs: string[];
}

/**
 * FAILURE-DRILL HOOK, test only (`OUTBOX_RELAY_FAULT_HOLD_AFTER_SEND=<path>`; unset, the relay
 * never calls it). A relay's `afterSend` that lets a drill kill -9 the process between the
 * broker's ack and the mark, a window of a millisecond or two otherwise.
 *
 * Once the drill created `<path>`, the next acknowledged batch is held unmarked, announced in
 * `<path>.held` ({@link HeldBatch}), until the drill removes `<path>.held` or `maxHoldMs` passes;
 * then the relay marks the batch as usual ({@link holdIfArmed}).
 */
export function holdAfterSend(
  path: string,
  options: DrillHoldOptions = {},
): (batch: AcknowledgedBatch) => Promise<void> {
  return async (batch) => {
    if (batch.messageIds.length === 0) return;
    await holdIfArmed(
      path,
      {
        announce: {
          messageIds: [...batch.messageIds],
          seqs: [...batch.seqs],
        } satisfies Omit<HeldBatch, 'pid'>,
        fields: {
          rows: batch.messageIds.length,
          firstMessageId: batch.messageIds[0],
          lastMessageId: batch.messageIds.at(-1),
          firstSeq: batch.seqs[0],
          lastSeq: batch.seqs.at(-1),
        },
        holding: 'drill hook: holding an acknowledged batch before marking it',
        released: 'drill hook: released the held batch; marking it',
      },
      options,
    );
  };
}
