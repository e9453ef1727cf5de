import { rename, stat, unlink, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AcknowledgedBatch, RelayLogger } from './relay.js';

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
 * - Armed by the drill creating the file `<path>`. After each acknowledged batch the hook
 *   removes it: only the remover holds, once (a restarted process, or the next batch, runs
 *   normally until the drill arms it again).
 * - It announces the held batch in `<path>.held` (JSON: pid, message ids, seqs, written whole)
 *   and a log line, then waits, rows unmarked, until `<path>.held` is removed (the drill
 *   releases it) or `maxHoldMs` passes; then the relay marks the batch as usual.
 */
export function holdAfterSend(
  path: string,
  options: { logger?: RelayLogger; maxHoldMs?: number; pollMs?: number } = {},
): (batch: AcknowledgedBatch) => Promise<void> {
  const maxHoldMs = options.maxHoldMs ?? 60_000;
  const pollMs = options.pollMs ?? 20;
  const held = `${path}.held`;
  return async (batch) => {
    if (batch.messageIds.length === 0) return;
    // unlink is the check and the disarm in one step: no second holder, no armed restart.
    if (
      !(await unlink(path).then(
        () => true,
        () => false,
      ))
    )
      return;
    const announced: HeldBatch = {
      pid: process.pid,
      messageIds: [...batch.messageIds],
      seqs: [...batch.seqs],
    };
    await writeFile(`${held}.tmp`, JSON.stringify(announced));
    await rename(`${held}.tmp`, held);
    const fields = {
      drillHook: path,
      rows: batch.messageIds.length,
      firstMessageId: batch.messageIds[0],
      lastMessageId: batch.messageIds.at(-1),
      firstSeq: batch.seqs[0],
      lastSeq: batch.seqs.at(-1),
    };
    options.logger?.warn(fields, 'drill hook: holding an acknowledged batch before marking it');
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
    options.logger?.warn(fields, 'drill hook: released the held batch; marking it');
  };
}
