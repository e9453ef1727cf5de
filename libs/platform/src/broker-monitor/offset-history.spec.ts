import { describe, expect, it } from 'vitest';
import { OffsetHistory, skewRatio } from './offset-history.js';

describe('OffsetHistory', () => {
  it('dates a message between the two samples around its offset', () => {
    const h = new OffsetHistory();
    h.record(0, 1_000);
    h.record(10, 2_000); // offsets 0..9 written between t=1000 and t=2000
    expect(h.writtenAt(4)).toBe(1_500);
    expect(h.writtenAt(9)).toBe(2_000);
  });

  it('has no date for an offset not written yet, so a caught-up consumer has no lag in seconds', () => {
    const h = new OffsetHistory();
    h.record(10, 1_000);
    expect(h.writtenAt(10)).toBeUndefined();
  });

  it('dates offsets older than its history to the oldest sample: the age is a lower bound', () => {
    const h = new OffsetHistory(2);
    h.record(5, 1_000);
    h.record(6, 2_000);
    h.record(7, 3_000); // the sample at t=1000 is dropped
    expect(h.writtenAt(0)).toBe(2_000);
  });

  it('keeps an idle partition history short while its newest time moves on', () => {
    const h = new OffsetHistory(3);
    h.record(0, 0);
    h.record(4, 1_000);
    for (let t = 2_000; t <= 60_000; t += 1_000) h.record(4, t);
    // offsets 0..3 were written before t=1000, not dated to the last idle sample
    expect(h.writtenAt(3)).toBe(1_000);
    expect(h.growth(10_000, 60_000)).toBe(0);
  });

  it('counts the messages written in a window', () => {
    const h = new OffsetHistory();
    h.record(0, 0);
    h.record(100, 60_000);
    h.record(130, 120_000);
    expect(h.growth(60_000, 120_000)).toBe(30);
  });
});

describe('skewRatio', () => {
  it('is 1 when every partition got the same share, max over mean otherwise', () => {
    expect(skewRatio([10, 10, 10])).toBe(1);
    expect(skewRatio([30, 0, 0])).toBe(3);
  });

  it('has no value without traffic', () => {
    expect(skewRatio([0, 0, 0])).toBeUndefined();
  });
});
