import { waitFor } from '@order-saga/testing';
import { expect } from 'vitest';
import {
  creditViolations,
  effectViolations,
  effectsOf,
  type Effects,
  type FinishedOrder,
} from './effects.js';
import type { OrderView, SagaSystem } from './system.js';

/** The seed stock of the sagas suites (`prisma/inventory` seed). */
export const initialStock: Record<string, number> = { widget: 100_000, gadget: 10_000, 'last-one': 1 };

/**
 * What every saga suite checks once its orders have ended, as vitest assertions: stock conserved
 * per sku and shipped exactly as the confirmed orders bought; at most one capture, refund and
 * shipment per order, counted by effect id from what the participants announced; captured −
 * refunded = the confirmed totals; each customer's used credit = its net charges; the last item
 * sold at most once. Returns the effects for checks of a suite's own.
 */
export async function expectConserved(
  system: SagaSystem,
  orders: readonly OrderView[],
  customerOf: ReadonlyMap<string, string>,
  { settleMs = 30_000 }: { settleMs?: number } = {},
): Promise<Effects> {
  // Inventory finishes each confirmed order's reservation asynchronously (OrderConfirmed).
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
      { timeout: settleMs },
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
  // shipping.events: append-only) by effect id, not from their one-row-per-order tables.
  const finished: FinishedOrder[] = orders.map((o) => ({
    orderId: o.orderId,
    status: o.status,
    total: o.total,
    customerId: customerOf.get(o.orderId)!,
  }));
  const effects = effectsOf([...(await system.events('payment')), ...(await system.events('shipping'))]);
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
  return effects;
}

/**
 * Waits until every saga of `orderIds` ended CONFIRMED, REJECTED or CANCELLED, then reads the
 * orders. One query for all sagas every half second: polling each order over HTTP was itself
 * enough load to starve the services on two cores. COMPENSATION_FAILED is not an end: such a saga
 * keeps compensating until it is CANCELLED.
 */
export async function ordersOnceEnded(
  system: SagaSystem,
  orderIds: readonly string[],
  timeoutMs = 240_000,
): Promise<OrderView[]> {
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
      timeoutMs,
      intervalMs: 500,
      message: () => `sagas not finished: ${JSON.stringify(open)}\n${system.tail()}`,
    },
  );
  return Promise.all(orderIds.map((id) => system.order(id)));
}
