import { randomUUID } from 'node:crypto';
import {
  causedBy,
  createEnvelope,
  messageSpec,
  type Envelope,
  type MessageType,
  type PayloadOf,
  type TopicKey,
} from '@order-saga/contracts';
import type { ProjectedMessage } from '@order-saga/projections';
import { describe, expect, it } from 'vitest';
import { evolveOrderSummary, orderSummary, type OrderSummary } from './order-summary.projection.js';

const orderId = randomUUID();
const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
let offsets = 0;

/** A message of the order as the runner hands it over, caused by `cause`, `ms` after the start. */
function message<T extends MessageType>(
  type: T,
  payload: PayloadOf<T>,
  cause: ProjectedMessage | null,
  ms: number,
): ProjectedMessage {
  const envelope = createEnvelope(type, payload, {
    ...(cause ? causedBy(cause.envelope) : { correlationId: orderId }),
    traceparent,
    occurredAt: new Date(Date.UTC(2026, 11, 1, 12, 0, 0, ms)),
  }) as Envelope;
  return {
    envelope,
    topicKey: messageSpec(type, 1).topic as TopicKey,
    partition: 1,
    offset: String(offsets++),
    timestamp: envelope.occurredAt,
  };
}

const items = [{ sku: 'widget', quantity: 2 }];
const address = { country: 'FR', city: 'Paris', line1: '1 rue de Rivoli' };

/** Every message of one confirmed order, in the order they happened. */
function confirmedOrder(): ProjectedMessage[] {
  const placed = message('OrderPlaced', { orderId, customerId: 'alice', items, total: 2000, shippingAddress: address }, null, 0);
  const reserve = message('ReserveStock', { orderId, items }, placed, 1);
  const reserved = message('StockReserved', { orderId, items }, reserve, 5);
  const charge = message('ChargePayment', { orderId, customerId: 'alice', amount: 2000 }, reserved, 6);
  const charged = message('PaymentCharged', { orderId, paymentId: 'p-1', amount: 2000 }, charge, 9);
  const ship = message('CreateShipment', { orderId, address, items }, charged, 10);
  const shipped = message('ShipmentCreated', { orderId, shipmentId: 's-1' }, ship, 14);
  const confirmed = message('OrderConfirmed', { orderId }, shipped, 15);
  return [placed, reserve, reserved, charge, charged, ship, shipped, confirmed];
}

/** An order whose payment was declined: stock is released (a compensation) and it is rejected. */
function rejectedOrder(): ProjectedMessage[] {
  const placed = message('OrderPlaced', { orderId, customerId: 'bob', items, total: 2000, shippingAddress: address }, null, 0);
  const reserve = message('ReserveStock', { orderId, items }, placed, 1);
  const reserved = message('StockReserved', { orderId, items }, reserve, 5);
  const charge = message('ChargePayment', { orderId, customerId: 'bob', amount: 2000 }, reserved, 6);
  const declined = message('PaymentDeclined', { orderId, reason: 'credit_limit_exceeded' }, charge, 9);
  const release = message('ReleaseStock', { orderId, reason: 'payment declined' }, declined, 10);
  const released = message('StockReleased', { orderId }, release, 12);
  const rejected = message('OrderRejected', { orderId, reason: 'payment declined' }, released, 13);
  return [placed, reserve, reserved, charge, declined, release, released, rejected];
}

const fold = (messages: readonly ProjectedMessage[]): OrderSummary | null =>
  messages.reduce<OrderSummary | null>((view, m) => evolveOrderSummary(view, m as never), null);

// A seeded generator: a failing permutation is reproduced by the same run.
function shuffler(seed: number) {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
  return <T>(list: readonly T[]): T[] => {
    const out = [...list];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  };
}

describe('order summary projection', () => {
  it('summarises a confirmed order: facts from OrderPlaced, outcome and duration from OrderConfirmed', () => {
    const view = fold(confirmedOrder())!;
    expect(view).toMatchObject({
      orderId,
      status: 'CONFIRMED',
      reason: null,
      customerId: 'alice',
      items,
      total: 2000,
      shippingAddress: address,
      placedAt: '2026-12-01T12:00:00.000Z',
      finishedAt: '2026-12-01T12:00:00.015Z',
      durationMs: 15,
    });
    expect(view.timeline.map((e) => `${e.service}:${e.type}`)).toEqual([
      'order:OrderPlaced',
      'order:ReserveStock',
      'inventory:StockReserved',
      'order:ChargePayment',
      'payment:PaymentCharged',
      'order:CreateShipment',
      'shipping:ShipmentCreated',
      'order:OrderConfirmed',
    ]);
    expect(view.timeline[0]!.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it('marks compensations and takes the reason from the terminal event', () => {
    const view = fold(rejectedOrder())!;
    expect(view.status).toBe('REJECTED');
    expect(view.reason).toBe('payment declined');
    expect(view.timeline.filter((e) => e.compensation).map((e) => e.type)).toEqual(['ReleaseStock', 'StockReleased']);
  });

  it('gives the same view for any arrival order of an order’s messages (300 permutations each)', () => {
    for (const messages of [confirmedOrder(), rejectedOrder()]) {
      const expected = fold(messages);
      const shuffle = shuffler(42);
      for (let i = 0; i < 300; i++) expect(fold(shuffle(messages))).toEqual(expected);
    }
  });

  it('changes nothing when messages are delivered twice, even at other offsets', () => {
    const messages = confirmedOrder();
    const expected = fold(messages);
    const shuffle = shuffler(7);
    const republished = messages.map((m) => ({ ...m, offset: String(Number(m.offset) + 1000) }));
    for (let i = 0; i < 100; i++) {
      expect(fold(shuffle([...messages, ...messages.slice(0, 3), ...republished]))).toEqual(expected);
    }
  });

  it('orders a reply after its command even when the replying service’s clock is behind', () => {
    const [placed, reserve] = confirmedOrder();
    const early = message('StockReserved', { orderId, items }, reserve!, -500);
    const view = fold([early, reserve!, placed!])!;
    expect(view.timeline.map((e) => e.type)).toEqual(['OrderPlaced', 'ReserveStock', 'StockReserved']);
  });

  it('keeps an order unlisted (no status) until its OrderPlaced arrives', () => {
    const [, , , , charged] = confirmedOrder();
    const view = fold([charged!])!;
    expect(view.status).toBeNull();
    expect(orderSummary.columns.placed_at!.value(view)).toBeNull();
  });
});
