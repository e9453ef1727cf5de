import { describe, expect, it } from 'vitest';
import { commit, release, reserve, totalsBySku, type ProductStock, type Reservation } from './reservation.js';

const orderId = '0190a5b4-8c1e-7000-8000-000000000001';
const stock: ProductStock[] = [
  { sku: 'gadget', onHand: 10 },
  { sku: 'last-one', onHand: 1 },
  { sku: 'widget', onHand: 100 },
];
const aReservation = (overrides: Partial<Reservation> = {}): Reservation => ({
  orderId,
  status: 'RESERVED',
  items: [{ sku: 'widget', quantity: 2 }],
  rejection: null,
  ...overrides,
});

describe('reserve', () => {
  it('reserve_when_every_line_is_on_hand_moves_it_to_reserved', () => {
    const items = [
      { sku: 'widget', quantity: 3 },
      { sku: 'gadget', quantity: 10 },
    ];
    const decision = reserve(null, { orderId, items }, stock);
    expect(decision.save).toEqual({ orderId, status: 'RESERVED', items, rejection: null });
    expect(decision.moves).toEqual([
      { sku: 'widget', quantity: 3, from: 'onHand', to: 'reserved' },
      { sku: 'gadget', quantity: 10, from: 'onHand', to: 'reserved' },
    ]);
    expect(decision.send).toEqual([{ type: 'StockReserved', payload: { orderId, items } }]);
  });

  it('reserve_of_an_unknown_sku_is_rejected_and_moves_nothing', () => {
    const items = [
      { sku: 'widget', quantity: 1 },
      { sku: 'nope', quantity: 1 },
    ];
    const decision = reserve(null, { orderId, items }, stock);
    expect(decision.moves).toEqual([]);
    expect(decision.save).toEqual({ orderId, status: 'REJECTED', items, rejection: { reason: 'unknown_sku', sku: 'nope' } });
    expect(decision.send).toEqual([{ type: 'StockUnavailable', payload: { orderId, reason: 'unknown_sku', sku: 'nope' } }]);
  });

  it('reserve_of_more_than_on_hand_is_rejected_as_out_of_stock', () => {
    const decision = reserve(null, { orderId, items: [{ sku: 'gadget', quantity: 11 }] }, stock);
    expect(decision.moves).toEqual([]);
    expect(decision.send).toEqual([{ type: 'StockUnavailable', payload: { orderId, reason: 'out_of_stock', sku: 'gadget' } }]);
  });

  it('reserve_of_exactly_what_is_on_hand_succeeds', () => {
    const decision = reserve(null, { orderId, items: [{ sku: 'last-one', quantity: 1 }] }, stock);
    expect(decision.save?.status).toBe('RESERVED');
    expect(decision.moves).toEqual([{ sku: 'last-one', quantity: 1, from: 'onHand', to: 'reserved' }]);
  });

  it('reserve_sums_repeated_skus_before_checking_stock', () => {
    const items = [
      { sku: 'last-one', quantity: 1 },
      { sku: 'last-one', quantity: 1 },
    ];
    const decision = reserve(null, { orderId, items }, stock);
    expect(decision.moves).toEqual([]);
    expect(decision.send).toEqual([{ type: 'StockUnavailable', payload: { orderId, reason: 'out_of_stock', sku: 'last-one' } }]);
  });

  it('reserve_names_the_first_failing_line_of_the_order', () => {
    const items = [
      { sku: 'gadget', quantity: 99 },
      { sku: 'nope', quantity: 1 },
    ];
    expect(reserve(null, { orderId, items }, stock).send[0]?.payload).toEqual({ orderId, reason: 'out_of_stock', sku: 'gadget' });
  });

  it('reserve_repeated_after_a_reservation_re_emits_stock_reserved_without_moving_stock', () => {
    const existing = aReservation();
    const decision = reserve(existing, { orderId, items: existing.items }, stock);
    expect(decision).toEqual({ moves: [], send: [{ type: 'StockReserved', payload: { orderId, items: existing.items } }] });
  });

  it('reserve_repeated_after_confirmation_re_emits_stock_reserved', () => {
    const existing = aReservation({ status: 'COMMITTED' });
    const decision = reserve(existing, { orderId, items: existing.items }, stock);
    expect(decision).toEqual({ moves: [], send: [{ type: 'StockReserved', payload: { orderId, items: existing.items } }] });
  });

  it('reserve_repeated_after_a_rejection_re_emits_the_stored_reason_even_if_stock_arrived', () => {
    const existing = aReservation({ status: 'REJECTED', rejection: { reason: 'out_of_stock', sku: 'widget' } });
    const decision = reserve(existing, { orderId, items: existing.items }, stock);
    expect(decision).toEqual({
      moves: [],
      send: [{ type: 'StockUnavailable', payload: { orderId, reason: 'out_of_stock', sku: 'widget' } }],
    });
  });

  it('reserve_after_release_or_tombstone_is_refused_silently', () => {
    for (const existing of [aReservation({ status: 'RELEASED' }), aReservation({ status: 'RELEASED', items: [] })]) {
      const decision = reserve(existing, { orderId, items: [{ sku: 'widget', quantity: 1 }] }, stock);
      expect(decision.save).toBeUndefined();
      expect(decision.moves).toEqual([]);
      expect(decision.send).toEqual([]);
      expect(decision.note?.level).toBe('warn');
    }
  });
});

describe('release', () => {
  const command = { orderId, reason: 'payment declined' };

  it('release_of_a_reservation_moves_reserved_back_on_hand', () => {
    const existing = aReservation({
      items: [
        { sku: 'widget', quantity: 2 },
        { sku: 'widget', quantity: 1 },
      ],
    });
    const decision = release(existing, command);
    expect(decision.save).toEqual({ ...existing, status: 'RELEASED' });
    expect(decision.moves).toEqual([{ sku: 'widget', quantity: 3, from: 'reserved', to: 'onHand' }]);
    expect(decision.send).toEqual([{ type: 'StockReleased', payload: { orderId } }]);
  });

  it('release_of_nothing_reserved_leaves_a_tombstone_and_is_acknowledged', () => {
    const decision = release(null, command);
    expect(decision.save).toEqual({ orderId, status: 'RELEASED', items: [], rejection: null });
    expect(decision.moves).toEqual([]);
    expect(decision.send).toEqual([{ type: 'StockReleased', payload: { orderId } }]);
  });

  it('release_repeated_or_after_rejection_is_acknowledged_again_without_moving_stock', () => {
    for (const existing of [
      aReservation({ status: 'RELEASED' }),
      aReservation({ status: 'REJECTED', rejection: { reason: 'unknown_sku', sku: 'x' } }),
    ]) {
      expect(release(existing, command)).toEqual({ moves: [], send: [{ type: 'StockReleased', payload: { orderId } }] });
    }
  });

  it('release_after_confirmation_is_refused_and_flagged_for_a_person', () => {
    const decision = release(aReservation({ status: 'COMMITTED' }), command);
    expect(decision.save).toBeUndefined();
    expect(decision.moves).toEqual([]);
    expect(decision.send).toEqual([]);
    expect(decision.note?.level).toBe('error');
  });
});

describe('commit', () => {
  it('confirmation_moves_reserved_stock_to_shipped', () => {
    const existing = aReservation();
    const decision = commit(existing, { orderId });
    expect(decision.save).toEqual({ ...existing, status: 'COMMITTED' });
    expect(decision.moves).toEqual([{ sku: 'widget', quantity: 2, from: 'reserved', to: 'shipped' }]);
    expect(decision.send).toEqual([]);
  });

  it('confirmation_of_anything_but_a_reservation_changes_nothing', () => {
    for (const existing of [
      null,
      aReservation({ status: 'COMMITTED' }),
      aReservation({ status: 'RELEASED' }),
      aReservation({ status: 'REJECTED', rejection: { reason: 'out_of_stock', sku: 'widget' } }),
    ]) {
      const decision = commit(existing, { orderId });
      expect(decision.save).toBeUndefined();
      expect(decision.moves).toEqual([]);
      expect(decision.send).toEqual([]);
    }
  });
});

describe('totalsBySku', () => {
  it('totals_sum_repeated_skus_in_order_of_first_appearance', () => {
    expect(
      totalsBySku([
        { sku: 'b', quantity: 1 },
        { sku: 'a', quantity: 2 },
        { sku: 'b', quantity: 3 },
      ]),
    ).toEqual([
      { sku: 'b', quantity: 4 },
      { sku: 'a', quantity: 2 },
    ]);
  });
});
