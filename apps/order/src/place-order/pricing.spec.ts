import { describe, expect, it } from 'vitest';
import { MAX_TOTAL, priceOrder } from './pricing.js';

const catalogue = new Map([
  ['widget', 1000],
  ['gadget', 2500],
]);

describe('priceOrder', () => {
  it('prices each line from the catalogue and totals price × quantity', () => {
    expect(
      priceOrder(
        [
          { sku: 'widget', quantity: 3 },
          { sku: 'gadget', quantity: 2 },
        ],
        catalogue,
      ),
    ).toEqual({
      kind: 'priced',
      lines: [
        { sku: 'widget', quantity: 3, unitPrice: 1000 },
        { sku: 'gadget', quantity: 2, unitPrice: 2500 },
      ],
      total: 8000,
    });
  });

  it('names every unknown sku, in the order sent', () => {
    expect(
      priceOrder(
        [
          { sku: 'gizmo', quantity: 1 },
          { sku: 'widget', quantity: 1 },
          { sku: 'doohickey', quantity: 1 },
        ],
        catalogue,
      ),
    ).toEqual({ kind: 'unknown-skus', skus: ['gizmo', 'doohickey'] });
  });

  it('refuses a total that does not fit the order table', () => {
    const quantity = Math.floor(MAX_TOTAL / 1000) + 1;
    expect(priceOrder([{ sku: 'widget', quantity }], catalogue)).toEqual({
      kind: 'total-too-large',
      total: quantity * 1000,
    });
  });

  it('accepts a total exactly at the limit', () => {
    expect(priceOrder([{ sku: 'one', quantity: MAX_TOTAL }], new Map([['one', 1]]))).toMatchObject({
      kind: 'priced',
      total: MAX_TOTAL,
    });
  });
});
