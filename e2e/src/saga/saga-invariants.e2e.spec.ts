import { waitFor } from '@order-saga/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditViolations, effectViolations, effectsOf, type FinishedOrder } from './effects.js';
import { mixedOrder, SagaSystem } from './system.js';

const initialStock: Record<string, number> = { widget: 100_000, gadget: 10_000, 'last-one': 1 };

describe('invariants after a burst of mixed concurrent orders', () => {
  let system: SagaSystem;
  const orderIds: string[] = [];
  const customerOf = new Map<string, string>();

  beforeAll(async () => {
    system = await SagaSystem.start('invariants');
    const count = 240;
    let next = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < count) {
          const body = mixedOrder(next++);
          const orderId = await system.place(body);
          orderIds.push(orderId);
          customerOf.set(orderId, body.customerId);
        }
      }),
    );
    // Four services and 240 orders on two cores shared with other suites: 120 s was seen to run out.
  }, 300_000);
  afterAll(async () => {
    await system?.stop();
  });

  it('ends every saga, and conserves stock and money with no double capture, refund or shipment', async () => {
    // One query for all 240 sagas every half second: polling each order over HTTP every 100 ms
    // (2,400 requests a second) was itself enough load to starve the services on two cores.
    // COMPENSATION_FAILED is not an end: such a saga keeps compensating until it is CANCELLED.
    let open: { status: string; n: string }[] = [];
    await waitFor(
      async () => {
        open = await system.query<{ status: string; n: string }>(
          'order',
          `SELECT status, count(*) AS n FROM saga
            WHERE order_id = ANY($1::uuid[]) AND status NOT IN ('CONFIRMED', 'REJECTED', 'CANCELLED')
            GROUP BY status`,
          [orderIds],
        );
        return open.length === 0;
      },
      {
        timeoutMs: 240_000,
        intervalMs: 500,
        message: () => `sagas not finished: ${JSON.stringify(open)}\n${system.tail()}`,
      },
    );
    const orders = await Promise.all(orderIds.map((id) => system.order(id)));
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
    // Stock is conserved per sku, and what left the shelf is exactly what the confirmed orders
    // bought: a reservation taken twice, or released and shipped, breaks one of the two.
    for (const row of stock)
      expect(row.on_hand + row.reserved + row.shipped, row.sku).toBe(initialStock[row.sku]);
    const shippedBySku = new Map<string, number>();
    for (const order of orders.filter((o) => o.status === 'CONFIRMED'))
      for (const item of order.items)
        shippedBySku.set(item.sku, (shippedBySku.get(item.sku) ?? 0) + item.quantity);
    for (const row of stock) expect(row.shipped, row.sku).toBe(shippedBySku.get(row.sku) ?? 0);

    // Money and shipments, counted from what the participants announced (payment.events,
    // shipping.events: append-only) by effect id, not from their one-row-per-order tables: at most
    // one capture, refund and shipment per order, refunds pay back real charges, captured −
    // refunded = the totals of the CONFIRMED orders, one live shipment per CONFIRMED order.
    const finished: FinishedOrder[] = orders.map((o) => ({
      orderId: o.orderId,
      status: o.status,
      total: o.total,
      customerId: customerOf.get(o.orderId)!,
    }));
    const effects = effectsOf([...(await system.events('payment')), ...(await system.events('shipping'))]);
    expect(effects.charges.size).toBeGreaterThan(0);
    expect(effects.refunds.size).toBeGreaterThan(0);
    expect(effects.shipments.size).toBeGreaterThan(0);
    expect(effectViolations(effects, finished)).toEqual([]);

    // Each customer's used credit is the net of their charges, as announced.
    const customers = await system.query<{ id: string; creditLimit: number; availableCredit: number }>(
      'payment',
      'SELECT id, credit_limit AS "creditLimit", available_credit AS "availableCredit" FROM customer',
    );
    expect(customers.length).toBeGreaterThan(0);
    expect(creditViolations(effects, finished, customers)).toEqual([]);

    // The last item went to at most one order.
    expect(
      orders.filter((o) => o.status === 'CONFIRMED' && o.items.some((i) => i.sku === 'last-one')).length,
    ).toBeLessThanOrEqual(1);
  }, 360_000);
});
