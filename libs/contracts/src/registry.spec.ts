import { describe, expect, it } from 'vitest';
import { ContractViolation } from './contract-violation.js';
import { examples } from './examples.fixture.js';
import { currentVersion, messageSpec, messageSpecs, validateMessage, type MessageType } from './registry.js';
import { topicKeys } from './topics.js';

function violation(run: () => unknown): ContractViolation {
  try {
    run();
  } catch (error) {
    if (error instanceof ContractViolation) return error;
    throw error;
  }
  throw new Error('expected a ContractViolation');
}

describe('registry', () => {
  it('every message starts at version 1 and lives on a known topic', () => {
    for (const spec of messageSpecs) {
      expect(spec.schemaVersion, spec.type).toBe(1);
      expect(topicKeys, spec.type).toContain(spec.topic);
    }
  });

  it('commands travel on .commands topics and events on .events topics', () => {
    for (const spec of messageSpecs) {
      expect(spec.topic.endsWith(spec.kind === 'command' ? '.commands' : '.events'), spec.type).toBe(true);
    }
  });

  it('every saga message is keyed by its order id', () => {
    for (const spec of messageSpecs.filter((s) => s.topic !== 'ledger.events')) {
      expect(spec.aggregateIdField, spec.type).toBe('orderId');
    }
  });

  it('accepts a valid payload of every message and returns it parsed', () => {
    for (const spec of messageSpecs) {
      const payload = examples[spec.type as MessageType];
      expect(validateMessage(spec.type, spec.schemaVersion, payload), spec.type).toEqual(payload);
    }
  });

  it('the current version of a type is its highest registered one', () => {
    expect(currentVersion('PaymentCharged')).toBe(1);
  });

  it('an unknown type is a violation naming the type', () => {
    const error = violation(() => messageSpec('Foo', 1));
    expect(error.message).toBe('Foo v1: unknown message type "Foo"');
  });

  it('an unknown version of a known type is a violation naming the version', () => {
    const error = violation(() => validateMessage('PaymentCharged', 2, examples.PaymentCharged));
    expect(error.message).toBe('PaymentCharged v2: unknown version 2 of message type "PaymentCharged"');
  });

  it('a field a producer invented is refused, named by its own path', () => {
    const error = violation(() =>
      validateMessage('ReserveStock', 1, {
        ...examples.ReserveStock,
        items: [{ sku: 'SKU-1', quantity: 1, colour: 'red' }],
      }),
    );
    expect(error.issues).toEqual([{ path: 'items[0].colour', message: 'unknown field' }]);
  });

  it('a non-positive quantity is refused at its path', () => {
    const error = violation(() =>
      validateMessage('ReserveStock', 1, {
        ...examples.ReserveStock,
        items: [{ sku: 'SKU-1', quantity: 0 }],
      }),
    );
    expect(error.issues.map((issue) => issue.path)).toEqual(['items[0].quantity']);
    expect(error.message).toMatch(/^ReserveStock v1: items\[0\]\.quantity: Too small/);
  });

  it('money is integer minor units: a fractional amount is refused', () => {
    const error = violation(() =>
      validateMessage('ChargePayment', 1, { ...examples.ChargePayment, amount: 49.9 }),
    );
    expect(error.issues.map((issue) => issue.path)).toEqual(['amount']);
  });

  it('a missing field is reported as missing', () => {
    const { amount: _amount, ...withoutAmount } = examples.PaymentCharged;
    const error = violation(() => validateMessage('PaymentCharged', 1, withoutAmount));
    expect(error.message).toBe('PaymentCharged v1: amount: required field is missing');
  });

  it('an order id that is not a uuid is refused', () => {
    const error = violation(() => validateMessage('OrderConfirmed', 1, { orderId: 'order-1' }));
    expect(error.issues).toEqual([{ path: 'orderId', message: 'Invalid UUID' }]);
  });

  it('a reason outside the enum is refused', () => {
    const error = violation(() =>
      validateMessage('PaymentDeclined', 1, { ...examples.PaymentDeclined, reason: 'nope' }),
    );
    expect(error.issues.map((issue) => issue.path)).toEqual(['reason']);
  });

  it('a country must be an ISO 3166-1 alpha-2 code', () => {
    const error = violation(() =>
      validateMessage('CreateShipment', 1, {
        ...examples.CreateShipment,
        address: { ...examples.CreateShipment.address, country: 'France' },
      }),
    );
    expect(error.issues).toEqual([
      { path: 'address.country', message: 'expected an ISO 3166-1 alpha-2 country code such as "FR"' },
    ]);
  });

  it('reports every problem at once, not only the first', () => {
    const error = violation(() =>
      validateMessage('PaymentCharged', 1, { orderId: 'x', amount: -1, extra: true }),
    );
    expect(error.issues.map((issue) => issue.path).sort()).toEqual([
      'amount',
      'extra',
      'orderId',
      'paymentId',
    ]);
  });

  it('an order needs at least one line', () => {
    const error = violation(() =>
      validateMessage('ReserveStock', 1, { ...examples.ReserveStock, items: [] }),
    );
    expect(error.issues.map((issue) => issue.path)).toEqual(['items']);
  });
});
