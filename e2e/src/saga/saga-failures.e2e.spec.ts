import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@order-saga/testing';
import { anOrder, SagaSystem } from './system.js';

/**
 * Crashes and outages in the middle of sagas. Short deadlines (1.5 s, 2 sends per step) keep the
 * drills quick; compensations get 6 sends with a doubling wait from 500 ms.
 */
describe('sagas survive crashes and missing participants', () => {
  let system: SagaSystem;

  beforeAll(async () => {
    system = await SagaSystem.start('failures', {
      SAGA_STEP_TIMEOUT_MS: '1500',
      SAGA_STEP_MAX_ATTEMPTS: '2',
      SAGA_COMPENSATION_MAX_ATTEMPTS: '6',
      SAGA_COMPENSATION_BACKOFF_MS: '500',
    });
  });
  afterAll(async () => {
    await system?.stop();
  });

  const payment = async (orderId: string) =>
    (
      await system.query<{ status: string; amount: number }>(
        'payment',
        'SELECT status, amount FROM payment WHERE order_id = $1',
        [orderId],
      )
    )[0];
  const reservation = async (orderId: string) =>
    (
      await system.query<{ status: string }>(
        'inventory',
        'SELECT status FROM reservation WHERE order_id = $1',
        [orderId],
      )
    )[0]?.status;
  const credit = async (customer: string) =>
    (
      await system.query<{ available_credit: number }>(
        'payment',
        'SELECT available_credit FROM customer WHERE id = $1',
        [customer],
      )
    )[0]!.available_credit;
  const steps = async (orderId: string) =>
    (await system.order(orderId)).steps.map((s) => `${s.name}:${s.outcome}`);

  it('finishes every saga when a participant is killed mid-saga and restarted', async () => {
    await system.kill('shipping');
    const orders = await Promise.all(Array.from({ length: 5 }, () => system.place(anOrder())));
    // Stock reserved and payment taken; the shipping step waits for a process that is gone.
    await waitFor(
      async () =>
        (await Promise.all(orders.map(steps))).every((s) => s.includes('create-shipment:requested')),
      {
        timeoutMs: 30_000,
        message: () => system.tail(),
      },
    );
    await system.startService('shipping');
    const outcomes = await Promise.all(orders.map((id) => system.waitForTerminal(id)));
    // Within its two sends the shipping step is answered (CONFIRMED) or gives up and is fully
    // compensated (CANCELLED); either way nothing stays half-done.
    for (const order of outcomes) expect(['CONFIRMED', 'CANCELLED']).toContain(order.status);
    for (const order of outcomes.filter((o) => o.status === 'CANCELLED')) {
      expect((await payment(order.orderId))?.status).toBe('REFUNDED');
      expect(await reservation(order.orderId)).toBe('RELEASED');
    }
  });

  it('refunds and releases exactly once when the orchestrator is killed during compensation', async () => {
    const creditBefore = await credit('alice');
    await system.kill('shipping');
    const orderId = await system.place(
      anOrder({ shippingAddress: { country: 'AQ', city: 'McMurdo', line1: 'Station' } }),
    );
    await waitFor(async () => (await steps(orderId)).includes('create-shipment:requested'), {
      timeoutMs: 30_000,
      message: () => system.tail(),
    });
    // Compensations will have nowhere to go: payment and inventory are down when shipping refuses.
    await system.kill('payment');
    await system.kill('inventory');
    await system.startService('shipping');
    await waitFor(async () => (await steps(orderId)).includes('RefundPayment:requested'), {
      timeoutMs: 30_000,
      message: () => system.tail(),
    });
    await system.kill('order');
    // While the orchestrator is down its re-sent compensations wait in Kafka, as do the replies.
    await system.startService('payment');
    await system.startService('inventory');
    await system.startService('order');
    const order = await system.waitForTerminal(orderId);
    expect(order.status).toBe('CANCELLED');
    expect(await payment(orderId)).toEqual({ status: 'REFUNDED', amount: 2000 });
    expect(await reservation(orderId)).toBe('RELEASED');
    expect(await credit('alice')).toBe(creditBefore);
  });

  it('compensates a step whose participant is down past its deadline, and undoes its late work', async () => {
    const creditBefore = await credit('alice');
    await system.kill('payment');
    const orderId = await system.place(anOrder({ items: [{ sku: 'widget', quantity: 1 }] }));
    // Two sends of ChargePayment go unanswered; the saga gives up and compensates.
    await waitFor(async () => (await steps(orderId)).includes('charge-payment:timed-out'), {
      timeoutMs: 30_000,
      message: () => system.tail(),
    });
    expect(await payment(orderId)).toBeUndefined();
    // The participant returns and works through its backlog: the charge, then the refund.
    await system.startService('payment');
    const order = await system.waitForTerminal(orderId);
    expect(order.status).toBe('CANCELLED');
    expect(order.reason).toMatch(/charge-payment timed out/);
    // The charge did happen late (same partition: charges before the refund), and was refunded.
    expect(await payment(orderId)).toEqual({ status: 'REFUNDED', amount: 1000 });
    expect(await credit('alice')).toBe(creditBefore);
    expect(await reservation(orderId)).toBe('RELEASED');
  });

  it('ends in COMPENSATION_FAILED, visibly, when a compensation can never be delivered', async () => {
    await system.kill('shipping');
    const orderId = await system.place(anOrder());
    await waitFor(async () => (await steps(orderId)).includes('create-shipment:requested'), {
      timeoutMs: 30_000,
      message: () => system.tail(),
    });
    await system.kill('payment');
    // Shipping never answers: the saga compensates; payment never answers the refund.
    const order = await system.waitForTerminal(orderId, 90_000);
    expect(order.status).toBe('COMPENSATION_FAILED');
    expect(system.processes.get('order')!.logs).toMatch(/COMPENSATION_FAILED/);
    await system.startService('payment');
    await system.startService('shipping');
  });
});
