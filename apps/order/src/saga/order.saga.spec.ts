import { describe, expect, it } from 'vitest';
import {
  advance,
  COMPENSATION_BACKOFF_CAP_MS,
  isRetryable,
  onDeadline,
  retrySaga,
  startSaga,
  type OrderSaga,
  type Reply,
  type SagaPolicy,
  type Send,
} from './order.saga.js';

const policy: SagaPolicy = {
  stepTimeoutMs: 1000,
  stepMaxAttempts: 3,
  compensationMaxAttempts: 3,
  compensationBackoffMs: 500,
};
const now = new Date('2026-11-22T12:00:00Z');
const later = (ms: number) => new Date(now.getTime() + ms);
const orderId = '0196a0c4-0000-7000-8000-000000000001';
const data = {
  customerId: 'alice',
  total: 3500,
  items: [
    { sku: 'widget', quantity: 1 },
    { sku: 'gadget', quantity: 1 },
  ],
  address: { country: 'FR', city: 'Paris', line1: '1 rue de Rivoli' },
};

function aSaga(overrides: Partial<OrderSaga> = {}): OrderSaga {
  return { ...startSaga(orderId, data, now, policy).saga, ...overrides };
}
const reply = <T extends Reply['type']>(
  type: T,
  payload: Omit<Extract<Reply, { type: T }>['payload'], 'orderId'>,
) => ({ type, payload: { orderId, ...payload } }) as Reply;
const types = (send: Send[]) => send.map((m) => m.type);

describe('order saga: the happy path', () => {
  it('announces the order and asks for stock when it starts', () => {
    const { saga, send } = startSaga(orderId, data, now, policy);
    expect(saga.status).toBe('RESERVING');
    expect(saga.deadlineAt).toEqual(later(1000));
    expect(types(send)).toEqual(['OrderPlaced', 'ReserveStock']);
  });

  it('charges the order total once stock is reserved', () => {
    const { saga, send } = advance(aSaga(), reply('StockReserved', { items: data.items }), now, policy);
    expect(saga.status).toBe('CHARGING');
    expect(send).toEqual([
      { type: 'ChargePayment', payload: { orderId, customerId: 'alice', amount: 3500 } },
    ]);
  });

  it('asks for a shipment to the order address once paid', () => {
    const { saga, send } = advance(
      aSaga({ status: 'CHARGING' }),
      reply('PaymentCharged', { paymentId: 'p1', amount: 3500 }),
      now,
      policy,
    );
    expect(saga.status).toBe('SHIPPING');
    expect(send).toEqual([
      { type: 'CreateShipment', payload: { orderId, address: data.address, items: data.items } },
    ]);
  });

  it('confirms the order once the shipment exists, and stops the clock', () => {
    const { saga, send } = advance(
      aSaga({ status: 'SHIPPING' }),
      reply('ShipmentCreated', { shipmentId: 's1' }),
      now,
      policy,
    );
    expect(saga.status).toBe('CONFIRMED');
    expect(saga.deadlineAt).toBeNull();
    expect(types(send)).toEqual(['OrderConfirmed']);
  });
});

describe('order saga: failures', () => {
  it('rejects without compensating when stock is unavailable: nothing was taken', () => {
    const { saga, send } = advance(
      aSaga(),
      reply('StockUnavailable', { reason: 'out_of_stock', sku: 'last-one' }),
      now,
      policy,
    );
    expect(saga.status).toBe('REJECTED');
    expect(saga.reason).toBe('out_of_stock: last-one');
    expect(types(send)).toEqual(['OrderRejected']);
  });

  it('releases the stock when payment is declined', () => {
    const { saga, send } = advance(
      aSaga({ status: 'CHARGING' }),
      reply('PaymentDeclined', { reason: 'credit_limit_exceeded' }),
      now,
      policy,
    );
    expect(saga.status).toBe('COMPENSATING');
    expect(saga.pending).toEqual(['stock']);
    expect(types(send)).toEqual(['ReleaseStock']);
  });

  it('refunds and releases when the shipment is refused', () => {
    const { saga, send } = advance(
      aSaga({ status: 'SHIPPING' }),
      reply('ShipmentRefused', { reason: 'country_not_served' }),
      now,
      policy,
    );
    expect(saga.status).toBe('COMPENSATING');
    expect(types(send)).toEqual(['RefundPayment', 'ReleaseStock']);
  });

  it('is cancelled, with the reason, once every compensation is acknowledged', () => {
    const compensating = aSaga({
      status: 'COMPENSATING',
      pending: ['payment', 'stock'],
      reason: 'country_not_served',
    });
    const refunded = advance(
      compensating,
      reply('PaymentRefunded', { paymentId: 'p1', amount: 3500 }),
      now,
      policy,
    );
    expect(refunded.saga.status).toBe('COMPENSATING');
    const released = advance(refunded.saga, reply('StockReleased', {}), now, policy);
    expect(released.saga.status).toBe('CANCELLED');
    expect(released.saga.reason).toBe('country_not_served');
    expect(released.send).toEqual([
      { type: 'OrderCancelled', payload: { orderId, reason: 'country_not_served' } },
    ]);
  });
});

describe('order saga: deadlines', () => {
  it('re-sends a step whose reply is late, with a new deadline', () => {
    const { saga, send } = onDeadline(aSaga({ status: 'CHARGING' }), later(1000), policy);
    expect(saga.status).toBe('CHARGING');
    expect(saga.attempt).toBe(2);
    expect(saga.deadlineAt).toEqual(later(2000));
    expect(types(send)).toEqual(['ChargePayment']);
  });

  it('after the last attempt, compensates everything the step and the ones before may have done', () => {
    const { saga, send } = onDeadline(aSaga({ status: 'CHARGING', attempt: 3 }), later(3000), policy);
    expect(saga.status).toBe('COMPENSATING');
    expect(saga.reason).toMatch(/charge-payment timed out/);
    expect(types(send)).toEqual(['RefundPayment', 'ReleaseStock']);
  });

  it('a shipping step that never answers cancels the shipment too', () => {
    const { send } = onDeadline(aSaga({ status: 'SHIPPING', attempt: 3 }), later(3000), policy);
    expect(types(send)).toEqual(['CancelShipment', 'RefundPayment', 'ReleaseStock']);
  });

  it('re-sends unanswered compensations with a growing wait', () => {
    const compensating = aSaga({ status: 'COMPENSATING', attempt: 1, pending: ['stock'], reason: 'x' });
    const first = onDeadline(compensating, now, policy);
    expect(types(first.send)).toEqual(['ReleaseStock']);
    expect(first.saga.deadlineAt).toEqual(later(1000 + 500));
    const second = onDeadline(first.saga, now, policy);
    expect(second.saga.deadlineAt).toEqual(later(1000 + 1000));
  });

  it('ends in COMPENSATION_FAILED, visibly, when a compensation keeps going unanswered', () => {
    const { saga, send } = onDeadline(
      aSaga({ status: 'COMPENSATING', attempt: 3, pending: ['payment'], reason: 'x' }),
      now,
      policy,
    );
    expect(saga.status).toBe('COMPENSATION_FAILED');
    expect(send).toEqual([
      {
        type: 'OrderCompensationFailed',
        payload: {
          orderId,
          step: 'RefundPayment',
          reason: expect.stringMatching(/RefundPayment unanswered after 3 attempts/),
        },
      },
    ]);
  });

  it('a saga that raised COMPENSATION_FAILED keeps a deadline while compensations are pending, so it stays in flight', () => {
    const { saga } = onDeadline(
      aSaga({ status: 'COMPENSATING', attempt: 3, pending: ['payment'], reason: 'x' }),
      now,
      policy,
    );
    // attempt 3 waits the step timeout plus 500 ms doubled twice.
    expect(saga.deadlineAt).toEqual(later(1000 + 2000));
  });

  it('keeps re-sending the compensations of a failed saga, without raising the alarm again', () => {
    const failed = aSaga({ status: 'COMPENSATION_FAILED', attempt: 3, pending: ['payment'], reason: 'x' });
    const { saga, send, steps } = onDeadline(failed, now, policy);
    expect(saga.status).toBe('COMPENSATION_FAILED');
    expect(saga.attempt).toBe(4);
    expect(saga.deadlineAt).toEqual(later(1000 + 2000));
    expect(send).toEqual([{ type: 'RefundPayment', payload: { orderId, reason: 'x' } }]);
    expect(steps).toEqual([
      { name: 'RefundPayment', outcome: 'retried', detail: 'attempt 4 after COMPENSATION_FAILED' },
    ]);
  });

  it('waits at most COMPENSATION_BACKOFF_CAP_MS between re-sends however long the outage lasts', () => {
    const failed = aSaga({ status: 'COMPENSATION_FAILED', attempt: 10_000, pending: ['stock'], reason: 'x' });
    expect(onDeadline(failed, now, policy).saga.deadlineAt).toEqual(
      later(1000 + COMPENSATION_BACKOFF_CAP_MS),
    );
  });

  it('does nothing for an ended saga whose deadline fired', () => {
    const { saga, send } = onDeadline(aSaga({ status: 'CONFIRMED', deadlineAt: now }), now, policy);
    expect(send).toEqual([]);
    expect(saga.deadlineAt).toBeNull();
  });
});

/**
 * A saga driven through real replies and deadlines from its start, so a test starts only from a
 * state the saga can actually be in.
 */
function given(...events: (Reply | 'deadline')[]): OrderSaga {
  let saga = startSaga(orderId, data, now, policy).saga;
  for (const event of events)
    saga = (event === 'deadline' ? onDeadline(saga, now, policy) : advance(saga, event, now, policy)).saga;
  return saga;
}
const deadlines = (n: number) => Array<'deadline'>(n).fill('deadline');
const reserved = reply('StockReserved', { items: data.items });
const charged = reply('PaymentCharged', { paymentId: 'p1', amount: 3500 });

describe('order saga: late and duplicate replies', () => {
  it('does not refund twice when a charge answers after its step timed out: the refund is on its way', () => {
    const compensating = given(reserved, ...deadlines(3));
    expect(compensating).toMatchObject({ status: 'COMPENSATING', pending: ['payment', 'stock'] });
    const { saga, send } = advance(compensating, charged, now, policy);
    expect(send).toEqual([]);
    expect(saga.pending).toEqual(['payment', 'stock']);
  });

  it('does not refund again a charge redelivered after its refund was acknowledged', () => {
    const cancelled = given(
      reserved,
      ...deadlines(3),
      reply('PaymentRefunded', { amount: 3500 }),
      reply('StockReleased', {}),
    );
    expect(cancelled).toMatchObject({ status: 'CANCELLED', compensated: ['payment', 'stock'] });
    expect(advance(cancelled, charged, now, policy).send).toEqual([]);
  });

  it('does not refund a charge that answers after COMPENSATION_FAILED: its refund is still pending', () => {
    const failed = given(reserved, ...deadlines(3), ...deadlines(3));
    expect(failed).toMatchObject({ status: 'COMPENSATION_FAILED', pending: ['payment', 'stock'] });
    expect(advance(failed, charged, now, policy).send).toEqual([]);
  });

  it('a reservation that answers after its step timed out changes nothing: its release is on its way', () => {
    const compensating = given(...deadlines(3));
    expect(compensating).toMatchObject({ status: 'COMPENSATING', pending: ['stock'] });
    const { saga, send } = advance(compensating, reserved, now, policy);
    expect(send).toEqual([]);
    expect(saga).toBe(compensating);
  });

  it('refunds a charge reported after the payment service declined it, while compensating', () => {
    const compensating = given(reserved, reply('PaymentDeclined', { reason: 'credit_limit_exceeded' }));
    const { saga, send } = advance(compensating, charged, now, policy);
    expect(types(send)).toEqual(['RefundPayment']);
    expect(saga.pending).toEqual(['stock', 'payment']);
  });

  it('refunds a charge reported after the payment service declined it, even once the order is cancelled', () => {
    const cancelled = given(
      reserved,
      reply('PaymentDeclined', { reason: 'credit_limit_exceeded' }),
      reply('StockReleased', {}),
    );
    expect(cancelled.status).toBe('CANCELLED');
    expect(types(advance(cancelled, charged, now, policy).send)).toEqual(['RefundPayment']);
  });

  it('ignores a duplicate reply to a step already passed', () => {
    const charging = given(reserved);
    const { saga, send } = advance(charging, reserved, now, policy);
    expect(saga).toBe(charging);
    expect(send).toEqual([]);
  });

  it('never compensates a confirmed order', () => {
    const confirmed = given(reserved, charged, reply('ShipmentCreated', { shipmentId: 's1' }));
    expect(confirmed.status).toBe('CONFIRMED');
    expect(advance(confirmed, charged, now, policy).send).toEqual([]);
  });
});

describe('order saga: replies that do not belong to the saga are rejected', () => {
  it('rejects a PaymentCharged whose amount is not the order total, and does not advance', () => {
    const charging = given(reserved);
    const decision = advance(charging, reply('PaymentCharged', { paymentId: 'p1', amount: 1 }), now, policy);
    expect(decision).toEqual({
      saga: charging,
      send: [],
      steps: [],
      rejected: 'PaymentCharged amount 1 does not match the order total 3500',
    });
  });

  it('rejects a reply for another order', () => {
    const other = {
      type: 'StockReserved',
      payload: { orderId: '0196a0c4-0000-7000-8000-000000000002', items: data.items },
    } as Reply;
    expect(advance(given(), other, now, policy).rejected).toMatch(/is for order/);
  });

  it('rejects a reservation of other lines than the order', () => {
    const wrong = reply('StockReserved', { items: [{ sku: 'widget', quantity: 9 }] });
    expect(advance(given(), wrong, now, policy).rejected).toBe(
      'StockReserved items do not match the order lines',
    );
  });

  it('accepts a reservation of the order lines in another order', () => {
    const shuffled = reply('StockReserved', { items: [...data.items].reverse() });
    expect(advance(given(), shuffled, now, policy).saga.status).toBe('CHARGING');
  });

  it('rejects a refund of more than the order total', () => {
    const compensating = given(reserved, ...deadlines(3));
    expect(advance(compensating, reply('PaymentRefunded', { amount: 3501 }), now, policy).rejected).toMatch(
      /exceeds the order total/,
    );
  });

  it.each([
    ['a charge while stock is being reserved', [], charged],
    [
      'a shipment while the payment is being charged',
      [reserved],
      reply('ShipmentCreated', { shipmentId: 's1' }),
    ],
    [
      'a refusal to ship while stock is being reserved',
      [],
      reply('ShipmentRefused', { reason: 'country_not_served' }),
    ],
    ['a release of stock that was never asked for', [reserved], reply('StockReleased', {})],
    [
      'a refund of a confirmed order',
      [reserved, charged, reply('ShipmentCreated', { shipmentId: 's1' })],
      reply('PaymentRefunded', { amount: 3500 }),
    ],
    [
      'a charge of a rejected order',
      [reply('StockUnavailable', { reason: 'out_of_stock', sku: 'widget' })],
      charged,
    ],
  ] as const)('rejects %s: a step the saga never requested', (_, before, late) => {
    const saga = given(...before);
    const decision = advance(saga, late, now, policy);
    expect(decision.rejected).toMatch(/never requested/);
    expect(decision.saga).toBe(saga);
    expect(decision.send).toEqual([]);
  });
});

describe('order saga: after COMPENSATION_FAILED', () => {
  const failed = () =>
    aSaga({
      status: 'COMPENSATION_FAILED',
      attempt: 3,
      deadlineAt: null,
      pending: ['payment', 'stock'],
      reason: 'x',
    });

  it('counts an acknowledgement that arrives after COMPENSATION_FAILED', () => {
    const { saga, steps } = advance(failed(), reply('StockReleased', {}), now, policy);
    expect(saga.status).toBe('COMPENSATION_FAILED');
    expect(saga.pending).toEqual(['payment']);
    expect(saga.compensated).toEqual(['stock']);
    expect(steps).toEqual([{ name: 'ReleaseStock', outcome: 'done' }]);
  });

  it('is cancelled, saying so, once the last late acknowledgement arrives', () => {
    const released = advance(failed(), reply('StockReleased', {}), now, policy);
    const { saga, send, steps } = advance(
      released.saga,
      reply('PaymentRefunded', { paymentId: 'p1', amount: 3500 }),
      now,
      policy,
    );
    expect(saga.status).toBe('CANCELLED');
    expect(saga.pending).toEqual([]);
    expect(saga.deadlineAt).toBeNull();
    expect(send).toEqual([{ type: 'OrderCancelled', payload: { orderId, reason: 'x' } }]);
    expect(steps).toContainEqual({
      name: 'order',
      outcome: 'cancelled',
      detail: expect.stringMatching(/acknowledged after COMPENSATION_FAILED/),
    });
  });

  it('an operator retry re-sends every pending compensation as attempt 1 with a fresh deadline', () => {
    const { saga, send, steps } = retrySaga(failed(), later(60_000), policy);
    expect(saga.status).toBe('COMPENSATING');
    expect(saga.attempt).toBe(1);
    expect(saga.deadlineAt).toEqual(later(60_000 + 1000));
    expect(saga.pending).toEqual(['payment', 'stock']);
    expect(send).toEqual([
      { type: 'RefundPayment', payload: { orderId, reason: 'x' } },
      { type: 'ReleaseStock', payload: { orderId, reason: 'x' } },
    ]);
    expect(steps[0]).toEqual({
      name: 'order',
      outcome: 'retried',
      detail: 'operator retry from COMPENSATION_FAILED',
    });
  });

  it('an operator retry of a saga still compensating restarts its attempts', () => {
    const compensating = aSaga({ status: 'COMPENSATING', attempt: 2, pending: ['stock'], reason: 'x' });
    const { saga, send } = retrySaga(compensating, now, policy);
    expect(saga.attempt).toBe(1);
    expect(types(send)).toEqual(['ReleaseStock']);
  });

  it.each(['RESERVING', 'CHARGING', 'SHIPPING', 'CONFIRMED', 'REJECTED', 'CANCELLED'] as const)(
    'an operator retry of a %s saga changes nothing',
    (status) => {
      const saga = aSaga({ status });
      expect(isRetryable(saga)).toBe(false);
      expect(retrySaga(saga, now, policy)).toEqual({ saga, send: [], steps: [] });
      expect(retrySaga(saga, now, policy).saga).toBe(saga);
    },
  );

  it('an operator retry, then the acknowledgements, cancel the order', () => {
    const retried = retrySaga(failed(), now, policy);
    const refunded = advance(retried.saga, reply('PaymentRefunded', { amount: 3500 }), now, policy);
    const released = advance(refunded.saga, reply('StockReleased', {}), now, policy);
    expect(released.saga.status).toBe('CANCELLED');
    expect(types(released.send)).toEqual(['OrderCancelled']);
  });
});
