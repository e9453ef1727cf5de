import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anOrder, SagaSystem } from './system.js';

describe('the order saga across four services', () => {
  let system: SagaSystem;

  beforeAll(async () => {
    system = await SagaSystem.start('outcomes');
  });
  afterAll(async () => {
    await system?.stop();
  });

  const stockOf = async (sku: string) =>
    (
      await system.query<{ on_hand: number; reserved: number; shipped: number }>(
        'inventory',
        'SELECT on_hand, reserved, shipped FROM product WHERE sku = $1',
        [sku],
      )
    )[0]!;
  const paymentsOf = (orderId: string) =>
    system.query<{ status: string; amount: number }>(
      'payment',
      'SELECT status, amount FROM payment WHERE order_id = $1',
      [orderId],
    );
  const shipmentsOf = (orderId: string) =>
    system.query<{ status: string }>('shipping', 'SELECT status FROM shipment WHERE order_id = $1', [
      orderId,
    ]);
  const reservationOf = async (orderId: string) =>
    (
      await system.query<{ status: string }>(
        'inventory',
        'SELECT status FROM reservation WHERE order_id = $1',
        [orderId],
      )
    )[0]?.status;
  const creditOf = async (customer: string) =>
    (
      await system.query<{ available_credit: number }>(
        'payment',
        'SELECT available_credit FROM customer WHERE id = $1',
        [customer],
      )
    )[0]!.available_credit;

  it('confirms a valid order: stock taken, payment captured once, one shipment', async () => {
    const gadgetBefore = await stockOf('gadget');
    const orderId = await system.place(anOrder({ items: [{ sku: 'gadget', quantity: 3 }] }));
    const order = await system.waitForTerminal(orderId);
    expect(order.status).toBe('CONFIRMED');
    expect(order.total).toBe(7500);
    expect(await paymentsOf(orderId)).toEqual([{ status: 'CHARGED', amount: 7500 }]);
    expect(await shipmentsOf(orderId)).toEqual([{ status: 'CREATED' }]);
    // Inventory turns the reservation into shipped stock when it hears OrderConfirmed.
    await expect.poll(() => reservationOf(orderId), { timeout: 15_000 }).toBe('COMMITTED');
    const gadgetAfter = await stockOf('gadget');
    expect(gadgetAfter.on_hand).toBe(gadgetBefore.on_hand - 3);
    expect(gadgetAfter.shipped).toBe(gadgetBefore.shipped + 3);
    expect(order.steps.map((s) => `${s.name}:${s.outcome}`)).toEqual(
      expect.arrayContaining([
        'reserve-stock:reserved',
        'charge-payment:charged',
        'create-shipment:created',
        'order:confirmed',
      ]),
    );
  });

  it('rejects an order it cannot stock, without charging or moving stock', async () => {
    const before = await stockOf('last-one');
    const orderId = await system.place(anOrder({ items: [{ sku: 'last-one', quantity: 2 }] }));
    const order = await system.waitForTerminal(orderId);
    expect(order.status).toBe('REJECTED');
    expect(order.reason).toMatch(/out_of_stock/);
    expect(await paymentsOf(orderId)).toEqual([]);
    expect(await stockOf('last-one')).toEqual(before);
  });

  it('cancels an order over the credit limit and releases its stock', async () => {
    const before = await stockOf('widget');
    const orderId = await system.place(
      anOrder({ customerId: 'bob', items: [{ sku: 'widget', quantity: 10 }] }),
    );
    const order = await system.waitForTerminal(orderId);
    expect(order.status).toBe('CANCELLED');
    expect(order.reason).toBe('credit_limit_exceeded');
    expect(await reservationOf(orderId)).toBe('RELEASED');
    expect(await paymentsOf(orderId)).toEqual([{ status: 'DECLINED', amount: 10000 }]);
    expect(await stockOf('widget')).toEqual(before);
    expect(await creditOf('bob')).toBe(5000);
  });

  it('cancels an order to an unserved country: payment refunded, stock released', async () => {
    const creditBefore = await creditOf('alice');
    const orderId = await system.place(
      anOrder({ shippingAddress: { country: 'AQ', city: 'McMurdo', line1: 'Station' } }),
    );
    const order = await system.waitForTerminal(orderId);
    expect(order.status).toBe('CANCELLED');
    expect(order.reason).toBe('country_not_served');
    expect(await paymentsOf(orderId)).toEqual([{ status: 'REFUNDED', amount: 2000 }]);
    expect(await reservationOf(orderId)).toBe('RELEASED');
    expect(await creditOf('alice')).toBe(creditBefore);
    expect(await shipmentsOf(orderId)).toEqual([{ status: 'REFUSED' }]);
  });

  it('creates one order per idempotency key, sequentially and under 20 concurrent twins', async () => {
    const body = anOrder();
    const first = await system.placeOrder(body, 'key-sequential');
    const second = await system.placeOrder(body, 'key-sequential');
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    const a = (await first.json()) as { orderId: string };
    const b = (await second.json()) as { orderId: string };
    expect(b.orderId).toBe(a.orderId);
    expect(first.headers.get('location')).toBe(`/orders/${a.orderId}`);

    const twins = await Promise.all(
      Array.from({ length: 20 }, () => system.placeOrder(body, 'key-concurrent')),
    );
    const statuses = twins.map((r) => r.status);
    expect(statuses.every((s) => s === 202 || s === 409)).toBe(true);
    const ids = new Set(
      await Promise.all(
        twins
          .filter((r) => r.status === 202)
          .map(async (r) => ((await r.json()) as { orderId: string }).orderId),
      ),
    );
    expect(ids.size).toBe(1);
    const rows = await system.query<{ n: string }>(
      'order',
      `SELECT count(*) AS n FROM idempotency_key WHERE key = 'key-concurrent'`,
    );
    expect(Number(rows[0]!.n)).toBe(1);
    const [orderId] = [...ids];
    expect(
      Number(
        (
          await system.query<{ n: string }>('order', 'SELECT count(*) AS n FROM "order" WHERE id = $1', [
            orderId,
          ])
        )[0]!.n,
      ),
    ).toBe(1);

    const different = await system.placeOrder(
      anOrder({ items: [{ sku: 'widget', quantity: 3 }] }),
      'key-sequential',
    );
    expect(different.status).toBe(422);
    expect(different.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });
});
