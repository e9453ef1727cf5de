import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anOrder, SagaSystem, type PlaceOrderBody } from './system.js';

const initialStock: Record<string, number> = { widget: 100_000, gadget: 10_000, 'last-one': 1 };

/** A mixed load: happy orders, orders over bob's credit, unserved countries, and a race for the last item. */
function mixedOrder(i: number): PlaceOrderBody {
  switch (i % 6) {
    case 0:
      return anOrder({
        items: [
          { sku: 'widget', quantity: 1 + (i % 3) },
          { sku: 'gadget', quantity: 1 },
        ],
      });
    case 1:
      return anOrder({ customerId: 'bob', items: [{ sku: 'gadget', quantity: 1 + (i % 3) }] });
    case 2:
      return anOrder({ shippingAddress: { country: 'AQ', city: 'McMurdo', line1: 'Station' } });
    case 3:
      return anOrder({ items: [{ sku: 'last-one', quantity: 1 }] });
    case 4:
      return anOrder({ customerId: 'carol' });
    default:
      return anOrder({ items: [{ sku: 'widget', quantity: 5 }] });
  }
}

describe('invariants after a burst of mixed concurrent orders', () => {
  let system: SagaSystem;
  const orderIds: string[] = [];

  beforeAll(async () => {
    system = await SagaSystem.start('invariants');
    const count = 240;
    let next = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < count) {
          const i = next++;
          orderIds.push(await system.place(mixedOrder(i)));
        }
      }),
    );
  }, 120_000);
  afterAll(async () => {
    await system?.stop();
  });

  it('ends every saga, and conserves stock and money with no double capture, refund or shipment', async () => {
    const orders = await Promise.all(orderIds.map((id) => system.waitForTerminal(id, 120_000)));
    expect(orders).toHaveLength(240);
    const byStatus = orders.reduce<Record<string, number>>(
      (acc, o) => ({ ...acc, [o.status]: (acc[o.status] ?? 0) + 1 }),
      {},
    );
    expect(byStatus.CONFIRMED).toBeGreaterThan(0);
    expect(byStatus.CANCELLED).toBeGreaterThan(0);
    expect(byStatus.REJECTED).toBeGreaterThan(0);
    expect(byStatus.COMPENSATION_FAILED ?? 0).toBe(0);

    // Stock: inventory finishes each confirmed order's reservation asynchronously (OrderConfirmed).
    await expect
      .poll(
        async () =>
          Number(
            (
              await system.query<{ n: string }>(
                'inventory',
                'SELECT coalesce(sum(reserved), 0) AS n FROM product',
              )
            )[0]!.n,
          ),
        { timeout: 30_000 },
      )
      .toBe(0);
    const stock = await system.query<{ sku: string; on_hand: number; reserved: number; shipped: number }>(
      'inventory',
      'SELECT sku, on_hand, reserved, shipped FROM product',
    );
    for (const row of stock) {
      expect(row.on_hand + row.reserved + row.shipped, row.sku).toBe(initialStock[row.sku]);
      expect(Math.min(row.on_hand, row.reserved, row.shipped), row.sku).toBeGreaterThanOrEqual(0);
    }
    const shippedBySku = new Map<string, number>();
    for (const order of orders.filter((o) => o.status === 'CONFIRMED'))
      for (const item of order.items)
        shippedBySku.set(item.sku, (shippedBySku.get(item.sku) ?? 0) + item.quantity);
    for (const row of stock) expect(row.shipped, row.sku).toBe(shippedBySku.get(row.sku) ?? 0);

    // Money: what stays captured is exactly the total of the confirmed orders.
    const [money] = await system.query<{ captured: string; refunded: string }>(
      'payment',
      `SELECT coalesce(sum(amount) FILTER (WHERE status IN ('CHARGED', 'REFUNDED')), 0) AS captured,
              coalesce(sum(amount) FILTER (WHERE status = 'REFUNDED'), 0) AS refunded FROM payment`,
    );
    const confirmedTotal = orders
      .filter((o) => o.status === 'CONFIRMED')
      .reduce((sum, o) => sum + o.total, 0);
    expect(Number(money!.captured) - Number(money!.refunded)).toBe(confirmedTotal);
    const credit = await system.query<{ id: string; credit_limit: number; available_credit: number }>(
      'payment',
      'SELECT id, credit_limit, available_credit FROM customer',
    );
    const charged = await system.query<{ customer_id: string; n: string }>(
      'payment',
      `SELECT customer_id, sum(amount) AS n FROM payment WHERE status = 'CHARGED' GROUP BY customer_id`,
    );
    for (const c of credit)
      expect(c.credit_limit - c.available_credit, c.id).toBe(
        Number(charged.find((x) => x.customer_id === c.id)?.n ?? 0),
      );

    // One capture, one refund, one shipment per order at most (and one per confirmed order).
    for (const [service, sql] of [
      ['payment', 'SELECT order_id FROM payment GROUP BY order_id HAVING count(*) > 1'],
      ['shipping', 'SELECT order_id FROM shipment GROUP BY order_id HAVING count(*) > 1'],
    ] as const) {
      expect(await system.query(service, sql)).toEqual([]);
    }
    const shipments = await system.query<{ order_id: string }>(
      'shipping',
      `SELECT order_id FROM shipment WHERE status = 'CREATED'`,
    );
    expect(new Set(shipments.map((s) => s.order_id))).toEqual(
      new Set(orders.filter((o) => o.status === 'CONFIRMED').map((o) => o.orderId)),
    );
    // The last item went to at most one order.
    expect(
      orders.filter((o) => o.status === 'CONFIRMED' && o.items.some((i) => i.sku === 'last-one')).length,
    ).toBeLessThanOrEqual(1);
  });
});
