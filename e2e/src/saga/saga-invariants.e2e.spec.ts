import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectConserved, ordersOnceEnded } from './conservation.js';
import { mixedOrder, SagaSystem } from './system.js';

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
    const orders = await ordersOnceEnded(system, orderIds);
    expect(orders).toHaveLength(240);
    const byStatus = orders.reduce<Record<string, number>>(
      (acc, o) => ({ ...acc, [o.status]: (acc[o.status] ?? 0) + 1 }),
      {},
    );
    expect(byStatus.CONFIRMED).toBeGreaterThan(0);
    expect(byStatus.CANCELLED).toBeGreaterThan(0);
    expect(byStatus.REJECTED).toBeGreaterThan(0);
    expect(byStatus.COMPENSATION_FAILED ?? 0).toBe(0);

    const effects = await expectConserved(system, orders, customerOf);
    expect(effects.charges.size).toBeGreaterThan(0);
    expect(effects.refunds.size).toBeGreaterThan(0);
    expect(effects.shipments.size).toBeGreaterThan(0);
  }, 360_000);
});
