import { z } from 'zod';
import { TextId } from './common.js';

/**
 * Messaging testbed only, not part of the order saga: the outbox and consumer libs test
 * ordering, de-duplication and dead-lettering with this event on `ledger.events`. `seq` counts
 * entries per aggregate, so a test can see a gap or a duplicate at a glance.
 */
export const LedgerEntryRecorded = z.strictObject({
  aggregateId: TextId,
  seq: z.number().int().nonnegative(),
  // Padding for drills and benchmarks that need messages of a given size, up to past the broker's
  // 1 MiB default; what a consumer decodes is still capped by the wire limit (wireLimits.valueBytes).
  note: z.string().max(2_000_000).optional(),
});
export type LedgerEntryRecorded = z.infer<typeof LedgerEntryRecorded>;
