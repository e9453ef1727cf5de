import { describe, expect, it } from 'vitest';
import { messageSpecs } from './registry.js';
import { maskPii, piiFields, pseudonym } from './pii.js';

const placed = {
  orderId: '6f1c1d8e-4a4b-4f5e-9c1a-2b3c4d5e6f70',
  customerId: 'alice',
  items: [{ sku: 'widget', quantity: 2 }],
  total: 2000,
  shippingAddress: { country: 'FR', city: 'Paris', line1: '1 rue de Rivoli' },
};

describe('PII masking', () => {
  it('replaces the customer and the street address, keeps the country and everything else', () => {
    expect(maskPii('OrderPlaced', placed, 's')).toEqual({
      ...placed,
      customerId: pseudonym('alice', 's'),
      shippingAddress: { country: 'FR', city: pseudonym('Paris', 's'), line1: pseudonym('1 rue de Rivoli', 's') },
    });
    expect(placed.customerId).toBe('alice');
  });

  it('gives one customer the same pseudonym in every message, and another one under another salt', () => {
    const charge = maskPii('ChargePayment', { orderId: placed.orderId, customerId: 'alice', amount: 2000 }, 's') as { customerId: string };
    expect(charge.customerId).toBe((maskPii('OrderPlaced', placed, 's') as { customerId: string }).customerId);
    expect(pseudonym('alice', 'other')).not.toBe(pseudonym('alice', 's'));
  });

  it('names only fields that the message schemas declare', () => {
    for (const [type, paths] of Object.entries(piiFields)) {
      const schema = messageSpecs.find((s) => s.type === type)!.schema;
      for (const path of paths!) {
        let shape: unknown = schema;
        for (const part of path.split('.')) shape = (shape as { shape: Record<string, unknown> }).shape[part];
        expect(shape, `${type}.${path}`).toBeDefined();
      }
    }
  });
});
