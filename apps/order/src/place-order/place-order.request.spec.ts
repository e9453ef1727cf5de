import { describe, expect, it } from 'vitest';
import { fieldErrors } from '@order-saga/http';
import { IdempotencyKey, MAX_ITEMS, PlaceOrderRequest } from './place-order.request.js';

const valid = {
  customerId: 'customer-42',
  items: [{ sku: 'widget', quantity: 2 }],
  shippingAddress: { country: 'FR', city: 'Lyon', line1: '1 rue de la République' },
};

/** The field errors a body gets, or `[]` when it is accepted. */
function refusalsOf(body: unknown) {
  const result = PlaceOrderRequest.safeParse(body);
  return result.success ? [] : fieldErrors(result.error.issues);
}

describe('POST /orders body', () => {
  it('accepts a complete order and keeps it as sent', () => {
    expect(PlaceOrderRequest.parse(valid)).toEqual(valid);
  });

  it('refuses each unknown field by name, at any depth', () => {
    expect(refusalsOf({ ...valid, coupon: 'FREE', note: 'x' })).toEqual([
      { field: 'coupon', reason: 'unknown field' },
      { field: 'note', reason: 'unknown field' },
    ]);
    expect(refusalsOf({ ...valid, shippingAddress: { ...valid.shippingAddress, zip: '69001' } })).toEqual([
      { field: 'shippingAddress.zip', reason: 'unknown field' },
    ]);
    expect(refusalsOf({ ...valid, items: [{ sku: 'widget', quantity: 1, price: 1 }] })).toEqual([
      { field: 'items[0].price', reason: 'unknown field' },
    ]);
  });

  it('names every missing field', () => {
    expect(refusalsOf({ items: valid.items })).toEqual([
      { field: 'customerId', reason: 'required' },
      { field: 'shippingAddress', reason: 'required' },
    ]);
  });

  it('refuses wrong types with what was expected', () => {
    expect(refusalsOf({ customerId: 42, items: 'widget', shippingAddress: null })).toEqual([
      { field: 'customerId', reason: 'expected a string' },
      { field: 'items', reason: 'expected an array of items' },
      { field: 'shippingAddress', reason: 'expected an object with country, city and line1' },
    ]);
  });

  it('refuses a body that is not a JSON object', () => {
    for (const body of [undefined, [], 'order']) {
      expect(refusalsOf(body)).toEqual([
        { field: '(body)', reason: 'expected a JSON object (Content-Type: application/json)' },
      ]);
    }
  });

  it('refuses an order without items', () => {
    expect(refusalsOf({ ...valid, items: [] })).toEqual([
      { field: 'items', reason: 'at least one item is required' },
    ]);
  });

  it(`refuses more than ${MAX_ITEMS} lines`, () => {
    const items = Array.from({ length: MAX_ITEMS + 1 }, (_, i) => ({ sku: `sku-${i}`, quantity: 1 }));
    expect(refusalsOf({ ...valid, items })).toEqual([
      { field: 'items', reason: `at most ${MAX_ITEMS} items` },
    ]);
  });

  it.each([0, -1, 1.5, '2', null])('refuses quantity %j: only positive integers', (quantity) => {
    expect(refusalsOf({ ...valid, items: [{ sku: 'widget', quantity }] })).toEqual([
      { field: 'items[0].quantity', reason: 'expected a positive integer' },
    ]);
  });

  it('refuses a quantity that does not fit the 4-byte column', () => {
    expect(refusalsOf({ ...valid, items: [{ sku: 'widget', quantity: 2 ** 31 }] })).toEqual([
      { field: 'items[0].quantity', reason: 'at most 2147483647' },
    ]);
  });

  it('refuses an empty sku', () => {
    expect(refusalsOf({ ...valid, items: [{ sku: '', quantity: 1 }] })).toEqual([
      { field: 'items[0].sku', reason: 'must not be empty' },
    ]);
  });

  it('refuses the same sku on two lines, pointing at the second', () => {
    const items = [
      { sku: 'widget', quantity: 1 },
      { sku: 'gadget', quantity: 1 },
      { sku: 'widget', quantity: 2 },
    ];
    expect(refusalsOf({ ...valid, items })).toEqual([
      { field: 'items[2].sku', reason: '"widget" appears on more than one line' },
    ]);
  });

  it.each(['GB', 'DE', 'US', 'JP'])('accepts the real country code %s', (country) => {
    expect(refusalsOf({ ...valid, shippingAddress: { ...valid.shippingAddress, country } })).toEqual([]);
  });

  it.each(['UK', 'EU', 'ZZ', 'fr', 'FRA', ''])('refuses %j: not an ISO 3166-1 alpha-2 code', (country) => {
    expect(refusalsOf({ ...valid, shippingAddress: { ...valid.shippingAddress, country } })).toEqual([
      {
        field: 'shippingAddress.country',
        reason: 'expected an ISO 3166-1 alpha-2 country code such as "FR"',
      },
    ]);
  });

  it('refuses an empty city or street line', () => {
    expect(refusalsOf({ ...valid, shippingAddress: { country: 'FR', city: '', line1: '' } })).toEqual([
      { field: 'shippingAddress.city', reason: 'must not be empty' },
      { field: 'shippingAddress.line1', reason: 'must not be empty' },
    ]);
  });

  it('refuses an empty customer id', () => {
    expect(refusalsOf({ ...valid, customerId: '' })).toEqual([
      { field: 'customerId', reason: 'must not be empty' },
    ]);
  });
});

describe('Idempotency-Key header', () => {
  const reasons = (value: unknown) => {
    const result = IdempotencyKey.safeParse(value);
    return result.success ? [] : result.error.issues.map((issue) => issue.message);
  };

  it('is required', () => {
    expect(reasons(undefined)).toEqual(['required']);
    expect(reasons('')).toEqual(['required']);
  });

  it('accepts 1 to 200 characters', () => {
    expect(reasons('k')).toEqual([]);
    expect(reasons('k'.repeat(200))).toEqual([]);
    expect(reasons('k'.repeat(201))).toEqual(['at most 200 characters']);
  });
});
