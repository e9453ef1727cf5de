import { anOrder, type PlaceOrderBody } from '../saga/system.js';

/** What a benchmark order is meant to exercise, and the status it should end in. */
export type OrderKind = 'happy' | 'over-credit' | 'unserved-country' | 'out-of-stock';

export const expectedStatus: Record<OrderKind, string> = {
  happy: 'CONFIRMED',
  // bob's credit (5000) is below the order's total: declined, the stock is released.
  'over-credit': 'CANCELLED',
  // Shipping refuses AQ after the payment: refund and release, the longest path.
  'unserved-country': 'CANCELLED',
  // `last-one` has one unit in stock: the first such order may be confirmed, every later one is rejected.
  'out-of-stock': 'REJECTED',
};

const bodies: Record<OrderKind, PlaceOrderBody> = {
  happy: anOrder({ customerId: 'alice', items: [{ sku: 'widget', quantity: 2 }] }),
  'over-credit': anOrder({ customerId: 'bob', items: [{ sku: 'gadget', quantity: 3 }] }),
  'unserved-country': anOrder({
    customerId: 'alice',
    items: [{ sku: 'widget', quantity: 1 }],
    shippingAddress: { country: 'AQ', city: 'McMurdo', line1: '1 Ice Street' },
  }),
  'out-of-stock': anOrder({ customerId: 'alice', items: [{ sku: 'last-one', quantity: 1 }] }),
};

/**
 * 70% happy and 10% of each failure, spread out so that a short run still gets the same mix and
 * the failures never arrive back to back. The history the benchmark loads follows it too.
 */
export const orderCycle: readonly OrderKind[] = [
  'happy',
  'happy',
  'over-credit',
  'happy',
  'happy',
  'unserved-country',
  'happy',
  'happy',
  'out-of-stock',
  'happy',
];

/** The benchmark's order mix, one order after the other, shared by every client of a run. */
export class OrderMix {
  private next = 0;

  take(): { kind: OrderKind; body: PlaceOrderBody } {
    const kind = orderCycle[this.next++ % orderCycle.length]!;
    return { kind, body: bodies[kind] };
  }
}

/** How many orders of each kind ended in a status other than the expected one. */
export function unexpectedOutcomes(outcomes: Iterable<{ kind: OrderKind; status: string }>): number {
  let lastOneConfirmed = false;
  let unexpected = 0;
  for (const { kind, status } of outcomes) {
    if (kind === 'out-of-stock' && status === 'CONFIRMED' && !lastOneConfirmed) {
      lastOneConfirmed = true;
      continue;
    }
    if (status !== expectedStatus[kind]) unexpected += 1;
  }
  return unexpected;
}
