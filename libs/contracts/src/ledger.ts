import { z } from 'zod';

/**
 * Messaging testbed only, not part of the order saga: the outbox and consumer libs test
 * ordering, de-duplication and dead-lettering with this event on `ledger.events`. `seq` counts
 * entries per aggregate, so a test can see a gap or a duplicate at a glance.
 */
export const LedgerEntryRecorded = z.strictObject({
  aggregateId: z.string().min(1),
  seq: z.number().int().nonnegative(),
  note: z.string().optional(),
});
export type LedgerEntryRecorded = z.infer<typeof LedgerEntryRecorded>;
