import { describe, expect, it } from 'vitest';
import { overload } from './backpressure.js';

const bounds = { maxSagasInFlight: 10, maxUnpublishedOutbox: 100 };

describe('overload', () => {
  it('accepts orders while both figures are within their bounds, the bounds included', () => {
    expect(overload({ sagasInFlight: 10, unpublishedOutbox: 100 }, bounds)).toBeNull();
  });

  it('sheds when more sagas are in flight than the bound', () => {
    expect(overload({ sagasInFlight: 11, unpublishedOutbox: 0 }, bounds)).toBe(
      '11 sagas in flight, more than the bound of 10',
    );
  });

  it('sheds when the outbox holds more unpublished rows than the bound', () => {
    expect(overload({ sagasInFlight: 0, unpublishedOutbox: 101 }, bounds)).toBe(
      '101 unpublished outbox rows, more than the bound of 100',
    );
  });
});
