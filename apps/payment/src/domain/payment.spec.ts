import type { ChargePayment, RefundPayment } from '@order-saga/contracts';
import { describe, expect, it } from 'vitest';
import { decideCharge, decideRefund, type Customer, type Payment } from './payment.js';

const orderId = '0193a3f0-0000-7000-8000-000000000001';
const now = new Date('2026-11-22T12:00:00Z');
const later = new Date('2026-11-22T12:05:00Z');
const fresh = { paymentId: '0193a3f0-0000-7000-8000-0000000000aa', now };

const chargeCommand = (amount = 1500): ChargePayment => ({ orderId, customerId: 'bob', amount });
const refundCommand: RefundPayment = { orderId, reason: 'shipment refused' };
const bob = (availableCredit: number): Customer => ({ id: 'bob', availableCredit });
const aPayment = (overrides: Partial<Payment>): Payment => ({
  orderId,
  status: 'CHARGED',
  paymentId: fresh.paymentId,
  customerId: 'bob',
  amount: 1500,
  reason: null,
  chargedAt: now,
  refundedAt: null,
  ...overrides,
});

describe('charging', () => {
  it('a charge takes the amount from the available credit and records the payment', () => {
    const outcome = decideCharge(chargeCommand(1500), null, bob(5000), fresh);

    expect(outcome.credit).toEqual(bob(3500));
    expect(outcome.payment).toEqual(aPayment({}));
    expect(outcome.reply).toEqual({
      type: 'PaymentCharged',
      payload: { orderId, paymentId: fresh.paymentId, amount: 1500 },
    });
  });

  it('a charge of exactly the available credit is accepted and leaves zero', () => {
    const outcome = decideCharge(chargeCommand(5000), null, bob(5000), fresh);

    expect(outcome.reply.type).toBe('PaymentCharged');
    expect(outcome.credit).toEqual(bob(0));
  });

  it('a charge above the available credit is declined for credit_limit_exceeded and takes nothing', () => {
    const outcome = decideCharge(chargeCommand(5001), null, bob(5000), fresh);

    expect(outcome.credit).toBeUndefined();
    expect(outcome.payment).toMatchObject({
      status: 'DECLINED',
      reason: 'credit_limit_exceeded',
      paymentId: null,
      amount: 5001,
    });
    expect(outcome.reply).toEqual({
      type: 'PaymentDeclined',
      payload: { orderId, reason: 'credit_limit_exceeded' },
    });
  });

  it('a charge for an unknown customer is declined for customer_unknown', () => {
    const outcome = decideCharge({ ...chargeCommand(), customerId: 'mallory' }, null, null, fresh);

    expect(outcome.credit).toBeUndefined();
    expect(outcome.payment).toMatchObject({
      status: 'DECLINED',
      reason: 'customer_unknown',
      customerId: 'mallory',
    });
    expect(outcome.reply).toEqual({
      type: 'PaymentDeclined',
      payload: { orderId, reason: 'customer_unknown' },
    });
  });

  it('a re-sent charge of a charged order re-emits the same payment without charging again', () => {
    const outcome = decideCharge(chargeCommand(1500), aPayment({}), bob(3500), {
      ...fresh,
      paymentId: 'another',
    });

    expect(outcome.payment).toBeUndefined();
    expect(outcome.credit).toBeUndefined();
    expect(outcome.reply).toEqual({
      type: 'PaymentCharged',
      payload: { orderId, paymentId: fresh.paymentId, amount: 1500 },
    });
  });

  it('a re-sent charge of a declined order re-emits the stored reason, even if credit is now enough', () => {
    const declined = aPayment({
      status: 'DECLINED',
      paymentId: null,
      chargedAt: null,
      reason: 'credit_limit_exceeded',
    });

    const outcome = decideCharge(chargeCommand(1500), declined, bob(1_000_000), fresh);

    expect(outcome.payment).toBeUndefined();
    expect(outcome.credit).toBeUndefined();
    expect(outcome.reply).toEqual({
      type: 'PaymentDeclined',
      payload: { orderId, reason: 'credit_limit_exceeded' },
    });
  });

  it('a charge of a refunded order is declined as order_cancelled and never charged again', () => {
    const refunded = aPayment({ status: 'REFUNDED', refundedAt: later, reason: 'shipment refused' });

    const outcome = decideCharge(chargeCommand(1500), refunded, bob(5000), fresh);

    expect(outcome.payment).toBeUndefined();
    expect(outcome.credit).toBeUndefined();
    expect(outcome.reply).toEqual({
      type: 'PaymentDeclined',
      payload: { orderId, reason: 'order_cancelled' },
    });
  });

  it('a charge arriving after a refund of nothing (tombstone) is declined as order_cancelled', () => {
    const tombstone = decideRefund(refundCommand, null, null, { now }).payment!;

    const outcome = decideCharge(chargeCommand(1500), tombstone, bob(5000), fresh);

    expect(outcome.payment).toBeUndefined();
    expect(outcome.credit).toBeUndefined();
    expect(outcome.reply).toEqual({
      type: 'PaymentDeclined',
      payload: { orderId, reason: 'order_cancelled' },
    });
  });
});

describe('refunding', () => {
  it('a refund of a charge gives the amount back and records the refund', () => {
    const outcome = decideRefund(refundCommand, aPayment({}), bob(3500), { now: later });

    expect(outcome.credit).toEqual(bob(5000));
    expect(outcome.payment).toEqual(
      aPayment({ status: 'REFUNDED', refundedAt: later, reason: 'shipment refused' }),
    );
    expect(outcome.reply).toEqual({
      type: 'PaymentRefunded',
      payload: { orderId, paymentId: fresh.paymentId, amount: 1500 },
    });
  });

  it('a charge followed by its refund leaves the credit where it started', () => {
    const charge = decideCharge(chargeCommand(1234), null, bob(5000), fresh);
    const refund = decideRefund(refundCommand, charge.payment!, charge.credit!, { now: later });

    expect(refund.credit).toEqual(bob(5000));
  });

  it('a re-sent refund of a refunded order re-emits the same refund without giving money back twice', () => {
    const refunded = aPayment({ status: 'REFUNDED', refundedAt: later, reason: 'shipment refused' });

    const outcome = decideRefund(refundCommand, refunded, bob(5000), { now: later });

    expect(outcome.payment).toBeUndefined();
    expect(outcome.credit).toBeUndefined();
    expect(outcome.reply).toEqual({
      type: 'PaymentRefunded',
      payload: { orderId, paymentId: fresh.paymentId, amount: 1500 },
    });
  });

  it('a refund of a declined payment acknowledges zero and keeps it declined', () => {
    const declined = aPayment({
      status: 'DECLINED',
      paymentId: null,
      chargedAt: null,
      reason: 'customer_unknown',
    });

    const outcome = decideRefund(refundCommand, declined, null, { now: later });

    expect(outcome.payment).toBeUndefined();
    expect(outcome.credit).toBeUndefined();
    expect(outcome.reply).toEqual({ type: 'PaymentRefunded', payload: { orderId, amount: 0 } });
  });

  it('a refund of an order never charged leaves a tombstone and acknowledges zero', () => {
    const outcome = decideRefund(refundCommand, null, null, { now: later });

    expect(outcome.credit).toBeUndefined();
    expect(outcome.payment).toEqual({
      orderId,
      status: 'VOIDED',
      paymentId: null,
      customerId: null,
      amount: 0,
      reason: 'shipment refused',
      chargedAt: null,
      refundedAt: null,
    });
    expect(outcome.reply).toEqual({ type: 'PaymentRefunded', payload: { orderId, amount: 0 } });
  });

  it('a re-sent refund of a tombstone acknowledges zero again and changes nothing', () => {
    const tombstone = decideRefund(refundCommand, null, null, { now }).payment!;

    const outcome = decideRefund(refundCommand, tombstone, null, { now: later });

    expect(outcome.payment).toBeUndefined();
    expect(outcome.reply).toEqual({ type: 'PaymentRefunded', payload: { orderId, amount: 0 } });
  });

  it('a refund of a charge whose customer row is missing is refused rather than losing the money', () => {
    expect(() => decideRefund(refundCommand, aPayment({}), null, { now: later })).toThrow(/customer bob/);
  });
});
