import { describe, expect, it } from 'vitest';
import { restartDelay } from './backoff.js';

const policy = { initialMs: 500, maxMs: 30_000, stableMs: 60_000 };

describe('restart back-off', () => {
  it('doubles the wait with each consecutive crash', () => {
    expect([1, 2, 3, 4].map((n) => restartDelay(n, policy))).toEqual([500, 1000, 2000, 4000]);
  });

  it('never waits longer than the cap, however many crashes', () => {
    expect(restartDelay(7, policy)).toBe(30_000);
    expect(restartDelay(10_000, policy)).toBe(30_000);
  });
});
