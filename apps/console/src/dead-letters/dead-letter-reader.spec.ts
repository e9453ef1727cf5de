import type { DeadLetterRecord } from '@order-saga/consumer';
import { describe, expect, it } from 'vitest';
import { matches, planReads } from './dead-letter-reader.js';

const at = (entries: [number, bigint][]) => new Map(entries);

describe('planning a dead-letter topic refresh', () => {
  it('a_first_read_covers_each_partition_from_its_start_to_its_end', () => {
    expect(planReads(at([]), [{ partition: 0, low: '0', high: '3' }, { partition: 1, low: '2', high: '2' }])).toEqual([
      { partition: 0, dropBelow: 0n, from: 0n, to: 3n },
      { partition: 1, dropBelow: 2n, from: 2n, to: 2n },
    ]);
  });

  it('a_later_read_covers_only_what_was_appended_since', () => {
    const [plan] = planReads(at([[0, 3n]]), [{ partition: 0, low: '0', high: '5' }]);
    expect(plan).toEqual({ partition: 0, dropBelow: 0n, from: 3n, to: 5n });
  });

  it('records_deleted_by_retention_are_forgotten_and_reading_resumes_at_the_new_start', () => {
    const [plan] = planReads(at([[0, 3n]]), [{ partition: 0, low: '7', high: '9' }]);
    expect(plan).toEqual({ partition: 0, dropBelow: 7n, from: 7n, to: 9n });
  });

  it('a_topic_created_again_is_forgotten_and_read_from_its_start', () => {
    const [plan] = planReads(at([[0, 10n]]), [{ partition: 0, low: '0', high: '2' }]);
    expect(plan).toEqual({ partition: 0, dropBelow: 10n, from: 0n, to: 2n });
  });
});

describe('filtering dead letters', () => {
  const letter = (over: Partial<DeadLetterRecord>): DeadLetterRecord => ({
    dltTopic: 'inventory.commands.dlt',
    partition: 1,
    offset: '4',
    key: 'order-1',
    value: '{}',
    headers: {},
    messageId: 'm-1',
    type: 'ReserveStock',
    originalTopic: 'inventory.commands',
    originalPartition: 1,
    originalOffset: '9',
    errorClass: 'ContractViolation',
    errorMessage: 'items: expected array',
    attempts: 0,
    firstFailureAt: '',
    lastFailureAt: '',
    replayed: false,
    ...over,
  });

  it('an_empty_filter_matches_every_letter', () => {
    expect(matches(letter({}), {})).toBe(true);
  });

  it('every_given_field_must_match', () => {
    expect(matches(letter({}), { type: 'ReserveStock', aggregateId: 'order-1', position: '1:4' })).toBe(true);
    expect(matches(letter({}), { type: 'ReserveStock', aggregateId: 'order-2' })).toBe(false);
    expect(matches(letter({}), { position: '1:5' })).toBe(false);
    expect(matches(letter({}), { messageId: 'm-2' })).toBe(false);
  });

  it('not_replayed_leaves_out_letters_a_replay_marker_names', () => {
    expect(matches(letter({ replayed: true }), { notReplayed: true })).toBe(false);
    expect(matches(letter({ replayed: false }), { notReplayed: true })).toBe(true);
  });
});
