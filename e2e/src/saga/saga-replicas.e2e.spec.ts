import { parsePrometheusText, waitFor } from '@order-saga/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayMode } from '../debezium/cdc.js';
import { effectViolations, effectsOf, type FinishedOrder } from './effects.js';
import { anOrder, SagaSystem, services, type PlaceOrderBody, type Service } from './system.js';

const initialStock: Record<string, number> = { widget: 100_000, gadget: 10_000, 'last-one': 1 };

function mixedOrder(i: number): PlaceOrderBody {
  switch (i % 4) {
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
    default:
      return anOrder({ items: [{ sku: 'last-one', quantity: 1 }] });
  }
}

async function gauge(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const family = parsePrometheusText(text).find((f) => f.name === name);
  return Number(family?.metrics[0]?.value ?? NaN);
}

describe('two instances of every service', () => {
  let system: SagaSystem;
  const orderIds: string[] = [];
  const customerOf = new Map<string, string>();

  beforeAll(async () => {
    // Short step deadlines, so that both order instances' sweeps have deadlines to race for
    // while payment is down below.
    system = await SagaSystem.start(
      'replicas',
      { SAGA_STEP_TIMEOUT_MS: '2000', SAGA_STEP_MAX_ATTEMPTS: '30' },
      { replicas: 2 },
    );
  }, 300_000);
  afterAll(async () => {
    await system?.stop();
  });

  it('elects one relay leader per database', async () => {
    if (relayMode() === 'debezium') return; // Kafka Connect relays; no service leads
    for (const service of services) {
      const ports: number[] = [system.ports.get(service)!, system.replicas.get(service)!.port];
      await waitFor(
        async () =>
          (await Promise.all(ports.map((p) => gauge(p, 'outbox_relay_leader')))).reduce((a, b) => a + b) ===
          1,
        {
          timeoutMs: 30_000,
          message: () => `${service}: not exactly one relay leader among its two instances`,
        },
      );
    }
  });

  it('ends every saga once, with each deadline acted on once, while orders arrive at both instances and payment restarts', async () => {
    const apis = [system.api, `http://127.0.0.1:${system.replicas.get('order')!.port}`];
    const count = 120;
    let next = 0;
    const place = async () => {
      while (next < count) {
        const n = next++;
        const body = mixedOrder(n);
        const response = await fetch(`${apis[n % 2]}/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
          body: JSON.stringify(body),
        });
        expect(response.status).toBe(202);
        const { orderId } = (await response.json()) as { orderId: string };
        orderIds.push(orderId);
        customerOf.set(orderId, body.customerId);
      }
    };
    const placing = Promise.all(Array.from({ length: 8 }, place));
    // Both payment instances down for longer than a step deadline: the sweeps of both order
    // instances find the same expired sagas.
    const payment = (s: Service) => [system.processes.get(s)!, system.replicas.get(s)!.process];
    await Promise.all(payment('payment').map((p) => p.kill('SIGKILL')));
    await new Promise((r) => setTimeout(r, 5000));
    await placing;
    await Promise.all([system.startService('payment'), system.startReplica('payment')]);

    const orders = await Promise.all(orderIds.map((id) => system.waitForTerminal(id, 180_000)));
    expect(orders).toHaveLength(count);
    expect(orders.filter((o) => o.status === 'CONFIRMED').length).toBeGreaterThan(0);

    // A deadline acted on twice would record the same retry (same attempt) twice.
    const doubled = await system.query<{ order_id: string; name: string; detail: string; n: string }>(
      'order',
      `SELECT order_id, name, detail, count(*) AS n FROM saga_step
        WHERE outcome IN ('retried', 'timed-out') GROUP BY order_id, name, detail HAVING count(*) > 1`,
    );
    expect(doubled).toEqual([]);
    const retried = await system.query<{ n: string }>(
      'order',
      `SELECT count(*) AS n FROM saga_step WHERE outcome IN ('retried', 'timed-out')`,
    );
    expect(Number(retried[0]!.n), 'the payment outage made deadlines expire').toBeGreaterThan(0);

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
        { timeout: 60_000 },
      )
      .toBe(0);
    const stock = await system.query<{ sku: string; on_hand: number; reserved: number; shipped: number }>(
      'inventory',
      'SELECT sku, on_hand, reserved, shipped FROM product',
    );
    for (const row of stock)
      expect(row.on_hand + row.reserved + row.shipped, row.sku).toBe(initialStock[row.sku]);

    const finished: FinishedOrder[] = orders.map((o) => ({
      orderId: o.orderId,
      status: o.status,
      total: o.total,
      customerId: customerOf.get(o.orderId)!,
    }));
    const effects = effectsOf([...(await system.events('payment')), ...(await system.events('shipping'))]);
    expect(effectViolations(effects, finished)).toEqual([]);
  });
});
