import { describe, expect, it } from 'vitest';
import { ddmin } from './shrink.js';

describe('ddmin', () => {
  it('keeps only the items the failure needs', () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    const fails = (candidate: readonly number[]) =>
      candidate.includes(17) && candidate.includes(42) ? candidate : null;
    expect(ddmin(items, fails)).toEqual([17, 42]);
  });

  it('uses what the replay actually performed, which may be less than the candidate', () => {
    // A replay skips actions that became impossible: here every odd item is dropped on the way.
    const fails = (candidate: readonly number[]) => {
      const performed = candidate.filter((i) => i % 2 === 0);
      return performed.includes(8) ? performed : null;
    };
    expect(ddmin([1, 2, 3, 4, 5, 6, 7, 8, 9], fails)).toEqual([8]);
  });

  it('gives up shrinking when its budget of replays is spent', () => {
    let replays = 0;
    const fails = (candidate: readonly number[]) => (++replays, candidate.length >= 50 ? candidate : null);
    ddmin(
      Array.from({ length: 100 }, (_, i) => i),
      fails,
      10,
    );
    expect(replays).toBe(10);
  });
});
