import { holdIfArmed, type DrillHoldOptions } from '@order-saga/outbox';

/**
 * Messages whose inbox transaction committed and whose offsets were not handed to the offset
 * committer yet: one run of one partition (consecutive offsets, duplicates left out).
 */
export interface CommittedRun {
  topic: string;
  partition: number;
  messageIds: readonly string[];
  offsets: readonly string[];
}

/** What {@link holdAfterCommit} writes to `<path>.held` when it holds a run. */
export interface HeldRun {
  pid: number;
  topic: string;
  partition: number;
  messageIds: string[];
  offsets: string[];
}

/**
 * FAILURE-DRILL HOOK, test only (`CONSUMER_FAULT_HOLD_AFTER_COMMIT=<path>`; unset, the transport
 * never calls it). A transport's `afterCommit` that lets a drill kill -9 the process between the
 * database commit of a run of messages and the commit of their offsets, a window of a millisecond
 * or two otherwise: after such a kill the messages are delivered again and the inbox must make
 * the second delivery a no-op.
 *
 * Once the drill created `<path>`, the next run applied is held, its offsets neither resolved nor
 * handed to the offset committer, announced in `<path>.held` ({@link HeldRun}), until the drill
 * removes `<path>.held` or `maxHoldMs` passes; then the transport goes on as usual. See
 * `holdIfArmed` (libs/outbox) for the trigger's rules.
 */
export function holdAfterCommit(
  path: string,
  options: DrillHoldOptions = {},
): (run: CommittedRun) => Promise<void> {
  return async (run) => {
    if (run.messageIds.length === 0) return;
    await holdIfArmed(
      path,
      {
        announce: {
          topic: run.topic,
          partition: run.partition,
          messageIds: [...run.messageIds],
          offsets: [...run.offsets],
        } satisfies Omit<HeldRun, 'pid'>,
        fields: {
          topic: run.topic,
          partition: run.partition,
          messages: run.messageIds.length,
          firstOffset: run.offsets[0],
          lastOffset: run.offsets.at(-1),
        },
        holding: 'drill hook: holding a committed run before committing its offsets',
        released: 'drill hook: released the held run; committing its offsets',
      },
      options,
    );
  };
}
