import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnvelope, toKafkaMessage } from '@order-saga/contracts';
import { DLT_HEADERS } from '@order-saga/consumer';
import { createKafka } from '@order-saga/outbox';
import { testInfra, waitFor } from '@order-saga/testing';
import { readTopic } from '../messaging/scenario.js';
import { anOrder, SagaSystem, type OrderView } from './system.js';

const adminToken = 'e2e-admin-token-0123456789abcdef';

/**
 * Crashes and outages in the middle of sagas. Short deadlines (1.5 s, 2 sends per step) keep the
 * drills quick; compensations get 6 sends with a doubling wait from 500 ms.
 */
describe('sagas survive crashes and missing participants', () => {
  let system: SagaSystem;

  beforeAll(async () => {
    system = await SagaSystem.start('failures', {
      // Short enough for deadlines to pass within a test, long enough that a busy 2-core machine
      // (a hop took 2–3 s at load 20) does not time out the steps before the fault is injected.
      SAGA_STEP_TIMEOUT_MS: '3000',
      SAGA_STEP_MAX_ATTEMPTS: '2',
      SAGA_COMPENSATION_MAX_ATTEMPTS: '6',
      SAGA_COMPENSATION_BACKOFF_MS: '500',
      ADMIN_TOKEN: adminToken,
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
  const statusOf = async (orderId: string) => (await system.order(orderId)).status;
  /** Waits until the order shows `status` (COMPENSATION_FAILED is not an end: it can heal). */
  const waitForStatus = async (orderId: string, status: string, timeoutMs = 90_000): Promise<OrderView> => {
    let last: OrderView | undefined;
    await waitFor(
      async () => {
        last = await system.order(orderId).catch(() => undefined);
        return last?.status === status;
      },
      {
        timeoutMs,
        intervalMs: 200,
        message: () => `order ${orderId} not ${status}: ${JSON.stringify(last)}\n${system.tail()}`,
      },
    );
    return last!;
  };
  /** An order whose shipment is awaited from a dead shipping service, with payment dead too. */
  const failingCompensation = async () => {
    await system.kill('shipping');
    const orderId = await system.place(anOrder());
    await waitFor(async () => (await steps(orderId)).includes('create-shipment:requested'), {
      timeoutMs: 30_000,
      message: () => system.tail(),
    });
    await system.kill('payment');
    // Shipping never answers: the saga compensates; payment and shipping never answer the undo.
    await waitForStatus(orderId, 'COMPENSATION_FAILED');
    return orderId;
  };

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
    // Under load the compensations may outlast their retries and raise COMPENSATION_FAILED first;
    // the acknowledgements still finish the saga.
    await waitForStatus(orderId, 'CANCELLED');
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

  it('raises COMPENSATION_FAILED during an outage, and ends CANCELLED on its own once the participants are back', async () => {
    const creditBefore = await credit('alice');
    const orderId = await failingCompensation();
    expect(system.processes.get('order')!.logs).toMatch(/COMPENSATION_FAILED/);

    await system.startService('payment');
    await system.startService('shipping');
    const order = await waitForStatus(orderId, 'CANCELLED');
    expect(order.steps).toContainEqual(
      expect.objectContaining({
        name: 'order',
        outcome: 'cancelled',
        detail: expect.stringMatching(/acknowledged after COMPENSATION_FAILED/),
      }),
    );
    expect(await payment(orderId)).toEqual({ status: 'REFUNDED', amount: 2000 });
    expect(await reservation(orderId)).toBe('RELEASED');
    expect(await credit('alice')).toBe(creditBefore);
  });

  it('an operator retry resumes a COMPENSATION_FAILED saga, which ends CANCELLED', async () => {
    const orderId = await failingCompensation();
    const retry = (authorization?: string) =>
      fetch(`${system.api}/admin/sagas/${orderId}/retry`, {
        method: 'POST',
        headers: authorization ? { authorization } : {},
      });

    expect((await retry()).status).toBe(401);
    expect(await statusOf(orderId)).toBe('COMPENSATION_FAILED');
    const retried = await retry(`Bearer ${adminToken}`);
    expect(retried.status).toBe(200);
    expect(await retried.json()).toMatchObject({ orderId, status: 'COMPENSATING', attempt: 1 });
    expect(await steps(orderId)).toContain('order:retried');

    await system.startService('payment');
    await system.startService('shipping');
    await waitForStatus(orderId, 'CANCELLED');
    expect(await payment(orderId)).toEqual({ status: 'REFUNDED', amount: 2000 });
    expect(await reservation(orderId)).toBe('RELEASED');
  });

  it('dead-letters a PaymentCharged whose amount is not the order total, with the reason, and does not advance the saga', async () => {
    await system.kill('payment');
    const orderId = await system.place(anOrder());
    await waitFor(async () => (await steps(orderId)).includes('charge-payment:requested'), {
      timeoutMs: 30_000,
      message: () => system.tail(),
    });
    // A forged reply, produced straight to the reply topic as anyone with write access could.
    const kafka = createKafka({ clientId: 'forger', brokers: testInfra().kafkaBrokers });
    const producer = kafka.producer();
    await producer.connect();
    const forged = createEnvelope(
      'PaymentCharged',
      { orderId, paymentId: 'forged', amount: 1 },
      { correlationId: 'forged-reply' },
    );
    await producer.send({ topic: `${system.prefix}payment.events`, messages: [toKafkaMessage(forged)] });
    await producer.disconnect();

    const dead = await readTopic(kafka, `${system.prefix}payment.events.dlt`, (m) =>
      m.some((d) => d.id === forged.messageId),
    );
    const letter = dead.find((d) => d.id === forged.messageId)!;
    expect(letter.headers[DLT_HEADERS.errorClass]).toBe('PermanentError');
    expect(letter.headers[DLT_HEADERS.errorMessage]).toBe(
      'PaymentCharged amount 1 does not match the order total 2000',
    );
    const after = await steps(orderId);
    expect(after).not.toContain('charge-payment:charged');
    expect(after).not.toContain('create-shipment:requested');
    await system.startService('payment');
  });
});
