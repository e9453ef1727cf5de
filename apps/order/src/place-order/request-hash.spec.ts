import { describe, expect, it } from 'vitest';
import { requestHash } from './request-hash.js';

const order = {
  customerId: 'customer-42',
  items: [{ sku: 'widget', quantity: 2 }],
  shippingAddress: { country: 'FR', city: 'Lyon', line1: '1 rue de la République' },
};

describe('requestHash', () => {
  it('is the same whatever the key order, at every depth', () => {
    const reordered = {
      shippingAddress: { line1: '1 rue de la République', city: 'Lyon', country: 'FR' },
      items: [{ quantity: 2, sku: 'widget' }],
      customerId: 'customer-42',
    };
    expect(requestHash(reordered)).toBe(requestHash(order));
  });

  it('is the same for the body re-read from its JSON with other spacing', () => {
    expect(requestHash(JSON.parse(JSON.stringify(order, null, 4)))).toBe(requestHash(order));
  });

  it('differs when any value differs', () => {
    expect(requestHash({ ...order, items: [{ sku: 'widget', quantity: 3 }] })).not.toBe(requestHash(order));
    expect(requestHash({ ...order, shippingAddress: { ...order.shippingAddress, city: 'Lille' } })).not.toBe(
      requestHash(order),
    );
  });

  it('differs when the lines come in another order: the array is the order as sent', () => {
    const two = {
      ...order,
      items: [
        { sku: 'widget', quantity: 1 },
        { sku: 'gadget', quantity: 1 },
      ],
    };
    const swapped = {
      ...order,
      items: [
        { sku: 'gadget', quantity: 1 },
        { sku: 'widget', quantity: 1 },
      ],
    };
    expect(requestHash(swapped)).not.toBe(requestHash(two));
  });

  it('is a hex SHA-256 digest', () => {
    expect(requestHash(order)).toMatch(/^[0-9a-f]{64}$/);
  });
});
