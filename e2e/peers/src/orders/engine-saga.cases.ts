import { anOrder, type PlaceOrderBody } from '@order-saga/e2e/harness';
import { waitFor } from '@order-saga/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../engine.js';
import { finalStatuses, invariantViolations } from './invariants.js';

/**
 * The correctness cases every peer engine must pass before its figures mean anything: a happy
 * saga, a compensated one (shipping refuses after the payment: refund, then release), a declined
 * one, and the invariants of our own suites over all of them.
 */
export function describeEngineSaga(title: string, start: () => Promise<Engine>): void {
  describe(title, () => {
    let engine: Engine;
    const placed = new Map<string, string>();

    const place = async (name: string, body: PlaceOrderBody) => {
      const response = await engine.placeOrder(body);
      expect(response.status, await response.clone().text()).toBe(202);
      placed.set(name, ((await response.json()) as { orderId: string }).orderId);
    };

    const statusOf = async (): Promise<Map<string, string>> => {
      const { rows } = await engine.orders.query<{ id: string; status: string }>(
        'SELECT id, status FROM "order" WHERE id = ANY($1::uuid[])',
        [[...placed.values()]],
      );
      return new Map(rows.map((r) => [r.id, r.status]));
    };

    beforeAll(async () => {
      engine = await start();
      await place('happy', anOrder());
      await place(
        'unserved',
        anOrder({ shippingAddress: { country: 'AQ', city: 'McMurdo', line1: 'Station' } }),
      );
      await place('over credit', anOrder({ customerId: 'bob', items: [{ sku: 'gadget', quantity: 3 }] }));
      let ended = new Map<string, string>();
      await waitFor(
        async () => {
          ended = await statusOf();
          return [...ended.values()].filter((s) => finalStatuses.includes(s)).length === placed.size;
        },
        {
          timeoutMs: 30_000,
          intervalMs: 100,
          message: () => `sagas not ended: ${JSON.stringify([...ended])}`,
        },
      );
    }, 120_000);
    afterAll(async () => {
      await engine?.stop();
    });

    it('confirms_a_happy_order_and_cancels_refused_ones', async () => {
      const status = await statusOf();
      expect(status.get(placed.get('happy')!)).toBe('CONFIRMED');
      expect(status.get(placed.get('unserved')!)).toBe('CANCELLED');
      expect(status.get(placed.get('over credit')!)).toBe('CANCELLED');
    });

    it('refused_shipment_refunds_the_payment_then_releases_the_stock', async () => {
      const orderId = placed.get('unserved')!;
      const [payments, reservations, shipments] = await Promise.all([
        engine.query<{ order_id: string; status: string }>(
          'payment',
          'SELECT order_id, status::text FROM payment',
        ),
        engine.query<{ order_id: string; status: string }>(
          'inventory',
          'SELECT order_id, status::text FROM reservation',
        ),
        engine.query<{ order_id: string; status: string }>(
          'shipping',
          'SELECT order_id, status::text FROM shipment',
        ),
      ]);
      const of = (rows: { order_id: string; status: string }[]) =>
        rows.find((r) => r.order_id === orderId)?.status;
      expect([of(payments), of(reservations), of(shipments)]).toEqual(['REFUNDED', 'RELEASED', 'REFUSED']);
    });

    it('conserves_stock_and_credit_with_one_charge_and_one_shipment_per_confirmed_order', async () => {
      expect(await invariantViolations(engine)).toEqual([]);
    });
  });
}
