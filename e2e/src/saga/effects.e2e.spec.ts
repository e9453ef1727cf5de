// Pure: no service, broker or database. It lives beside the invariants suite (and in the e2e
// project) because it proves that suite's checks can fail: each history below is one way the
// participants could misbehave while their one-row-per-order tables still look right.
import { describe, expect, it } from 'vitest';
import {
  creditViolations,
  effectViolations,
  effectsOf,
  type FinishedOrder,
  type PublishedEvent,
} from './effects.js';

const order = (n: number, status: string, total = 1000, customerId = 'alice'): FinishedOrder => ({
  orderId: `order-${n}`,
  status,
  total,
  customerId,
});
let nextId = 0;
const event = (
  type: string,
  payload: Record<string, unknown>,
  messageId = `m-${++nextId}`,
): PublishedEvent => ({
  messageId,
  type,
  payload,
});
const charged = (n: number, amount = 1000, paymentId = `pay-${n}`) =>
  event('PaymentCharged', { orderId: `order-${n}`, paymentId, amount });
const refunded = (n: number, amount = 1000, paymentId = `pay-${n}`) =>
  event('PaymentRefunded', { orderId: `order-${n}`, paymentId, amount });
const shipped = (n: number, shipmentId = `ship-${n}`) =>
  event('ShipmentCreated', { orderId: `order-${n}`, shipmentId });
const unshipped = (n: number, shipmentId = `ship-${n}`) =>
  event('ShipmentCancelled', { orderId: `order-${n}`, shipmentId });

const orders = [order(1, 'CONFIRMED'), order(2, 'CANCELLED'), order(3, 'REJECTED')];
/** A correct history: 1 charged and shipped; 2 charged, shipped, then both undone; 3 untouched. */
const healthy = () => [charged(1), shipped(1), charged(2), shipped(2), unshipped(2), refunded(2)];
const problems = (events: PublishedEvent[], finished = orders) =>
  effectViolations(effectsOf(events), finished);

describe('the effect checks of the invariants suite', () => {
  it('pass a correct history, replies announced twice and relay duplicates included', () => {
    const duplicate = charged(1);
    const history = [...healthy(), duplicate, { ...duplicate }, charged(1), shipped(1), refunded(2)];
    expect(problems(history)).toEqual([]);
  });

  it('catch a second charge of one order', () => {
    expect(problems([...healthy(), charged(1, 1000, 'pay-1b')])).toEqual([
      'CONFIRMED order order-1 was charged 2 times',
      'CONFIRMED order order-1 holds 2000, expected 1000',
      'captured 3000 − refunded 1000 = 2000, confirmed totals 1000',
    ]);
  });

  it('catch a second refund, a refund of nothing and a partial refund', () => {
    expect(problems([...healthy(), refunded(2, 1000, 'pay-2b')])).toContain(
      'CANCELLED order order-2 was refunded 2 times',
    );
    expect(problems([...healthy(), refunded(3, 500, 'pay-3')])).toContain(
      'REJECTED order order-3 refunded payment pay-3, which was never charged',
    );
    const partial = healthy().filter((e) => e.type !== 'PaymentRefunded');
    expect(problems([...partial, refunded(2, 999)])).toEqual([
      'CANCELLED order order-2 refunded 999 of a 1000 charge',
      'CANCELLED order order-2 holds 1, expected 0',
      'captured 2000 − refunded 999 = 1001, confirmed totals 1000',
    ]);
  });

  it('catch money kept by a cancelled order or missing from a confirmed one', () => {
    const noRefund = healthy().filter((e) => e.type !== 'PaymentRefunded');
    expect(problems(noRefund)).toContain('CANCELLED order order-2 holds 1000, expected 0');
    const noCharge = healthy().filter(
      (e) => !(e.type === 'PaymentCharged' && e.payload.orderId === 'order-1'),
    );
    expect(problems(noCharge)).toContain('CONFIRMED order order-1 holds 0, expected 1000');
    expect(problems(healthy(), [order(1, 'CONFIRMED', 1200), orders[1]!, orders[2]!])).toContain(
      'CONFIRMED order order-1 holds 1000, expected 1200',
    );
  });

  it('catch a second shipment, a shipment left behind and a confirmed order without one', () => {
    expect(problems([...healthy(), shipped(1, 'ship-1b')])).toEqual([
      'CONFIRMED order order-1 got 2 shipments',
      'CONFIRMED order order-1 has 2 live shipments',
    ]);
    expect(problems(healthy().filter((e) => e.type !== 'ShipmentCancelled'))).toEqual([
      'CANCELLED order order-2 has 1 live shipments',
    ]);
    expect(
      problems(healthy().filter((e) => !(e.type === 'ShipmentCreated' && e.payload.orderId === 'order-1'))),
    ).toEqual(['CONFIRMED order order-1 has 0 live shipments']);
  });

  it('catch effects on an order nobody placed', () => {
    expect(problems([...healthy(), charged(9)])).toContain('effect for unknown order order-9');
  });

  it('catch a customer whose used credit is not the net of their charges', () => {
    const effects = effectsOf(healthy());
    const alice = { id: 'alice', creditLimit: 10_000, availableCredit: 9_000 };
    expect(creditViolations(effects, orders, [alice])).toEqual([]);
    expect(creditViolations(effects, orders, [{ ...alice, availableCredit: 8_000 }])).toEqual([
      'customer alice has used 2000 of credit, net charges are 1000',
    ]);
  });
});
