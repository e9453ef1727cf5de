import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compareSnapshots } from './compare.js';
import type { SchemaSnapshot } from './snapshot.js';

const json = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
const snapshotOf = (schemas: Record<string, z.ZodType>): SchemaSnapshot =>
  Object.fromEntries(Object.entries(schemas).map(([type, schema]) => [type, { '1': json(schema) }]));

/** Breaking changes when `PaymentCharged` v1 goes from `before` to `after`. */
function changes(before: z.ZodType, after: z.ZodType): string[] {
  return compareSnapshots(snapshotOf({ PaymentCharged: before }), snapshotOf({ PaymentCharged: after }));
}

const base = {
  orderId: z.uuid(),
  paymentId: z.string().min(1),
  amount: z.number().int().positive(),
};
const PaymentCharged = z.strictObject(base);

describe('schema evolution check', () => {
  it('an unchanged schema passes', () => {
    expect(changes(PaymentCharged, PaymentCharged)).toEqual([]);
  });

  it('adding an optional field passes', () => {
    expect(changes(PaymentCharged, z.strictObject({ ...base, note: z.string().optional() }))).toEqual([]);
  });

  it('adding a required field fails', () => {
    expect(changes(PaymentCharged, z.strictObject({ ...base, currency: z.string() }))).toEqual([
      'PaymentCharged v1: required field "currency" added',
    ]);
  });

  it('removing a field fails', () => {
    const { amount: _amount, ...rest } = base;
    expect(changes(PaymentCharged, z.strictObject(rest))).toEqual([
      'PaymentCharged v1: field "amount" removed',
    ]);
  });

  it('renaming a field fails as a removal plus a required addition', () => {
    const { amount, ...rest } = base;
    expect(changes(PaymentCharged, z.strictObject({ ...rest, amountCents: amount }))).toEqual([
      'PaymentCharged v1: field "amount" removed',
      'PaymentCharged v1: required field "amountCents" added',
    ]);
  });

  it("changing a field's type fails", () => {
    expect(changes(PaymentCharged, z.strictObject({ ...base, amount: z.string() }))).toEqual([
      'PaymentCharged v1: field "amount" changed type from integer to string',
    ]);
  });

  it('widening an integer to a number passes', () => {
    expect(changes(PaymentCharged, z.strictObject({ ...base, amount: z.number().positive() }))).toEqual([]);
  });

  it('an optional field becoming required fails', () => {
    const before = z.strictObject({ ...base, note: z.string().optional() });
    expect(changes(before, z.strictObject({ ...base, note: z.string() }))).toEqual([
      'PaymentCharged v1: field "note" became required',
    ]);
  });

  it('a required field becoming optional passes: every old payload still has it', () => {
    expect(
      changes(PaymentCharged, z.strictObject({ ...base, paymentId: z.string().min(1).optional() })),
    ).toEqual([]);
  });

  it('removing an enum value fails and names it', () => {
    const before = z.strictObject({ ...base, reason: z.enum(['credit_limit_exceeded', 'customer_unknown']) });
    const after = z.strictObject({ ...base, reason: z.enum(['credit_limit_exceeded']) });
    expect(changes(before, after)).toEqual([
      'PaymentCharged v1: field "reason": values removed: "customer_unknown"',
    ]);
  });

  it('adding an enum value passes', () => {
    const before = z.strictObject({ ...base, reason: z.enum(['credit_limit_exceeded']) });
    const after = z.strictObject({ ...base, reason: z.enum(['credit_limit_exceeded', 'fraud_suspected']) });
    expect(changes(before, after)).toEqual([]);
  });

  it('restricting a free string to an enum fails', () => {
    const before = z.strictObject({ ...base, reason: z.string() });
    const after = z.strictObject({ ...base, reason: z.enum(['a']) });
    expect(changes(before, after)).toEqual(['PaymentCharged v1: field "reason" now only accepts "a"']);
  });

  it('nullable to non-null fails', () => {
    const before = z.strictObject({ ...base, paymentId: z.string().nullable() });
    const after = z.strictObject({ ...base, paymentId: z.string() });
    expect(changes(before, after)).toEqual(['PaymentCharged v1: field "paymentId" is no longer nullable']);
  });

  it('a nullable object becoming non-null fails too', () => {
    const address = z.strictObject({ city: z.string() });
    const before = z.strictObject({ ...base, address: address.nullable() });
    const after = z.strictObject({ ...base, address });
    expect(changes(before, after)).toEqual(['PaymentCharged v1: field "address" is no longer nullable']);
  });

  it('non-null to nullable passes', () => {
    expect(
      changes(PaymentCharged, z.strictObject({ ...base, paymentId: z.string().min(1).nullable() })),
    ).toEqual([]);
  });

  it('nested objects are walked', () => {
    const before = z.strictObject({
      ...base,
      address: z.strictObject({ country: z.string(), city: z.string() }),
    });
    const after = z.strictObject({ ...base, address: z.strictObject({ country: z.string() }) });
    expect(changes(before, after)).toEqual(['PaymentCharged v1: field "address.city" removed']);
  });

  it('arrays of objects are walked', () => {
    const before = z.strictObject({
      ...base,
      items: z.array(z.strictObject({ sku: z.string(), quantity: z.number().int() })),
    });
    const after = z.strictObject({
      ...base,
      items: z.array(z.strictObject({ sku: z.string(), quantity: z.string() })),
    });
    expect(changes(before, after)).toEqual([
      'PaymentCharged v1: field "items[].quantity" changed type from integer to string',
    ]);
  });

  it('tightening a bound fails; loosening one passes', () => {
    expect(changes(PaymentCharged, z.strictObject({ ...base, paymentId: z.string().min(3) }))).toEqual([
      'PaymentCharged v1: field "paymentId": minimum length raised from 1 to 3',
    ]);
    expect(
      changes(PaymentCharged, z.strictObject({ ...base, amount: z.number().int().nonnegative() })),
    ).toEqual([]);
    expect(changes(PaymentCharged, z.strictObject({ ...base, amount: z.number().int().min(1) }))).toEqual([]);
    expect(
      changes(PaymentCharged, z.strictObject({ ...base, amount: z.number().int().positive().max(100) })),
    ).toEqual(['PaymentCharged v1: field "amount": maximum lowered from 9007199254740991 to 100']);
  });

  it('a changed pattern fails: no one can prove the new one accepts every old value', () => {
    const before = z.strictObject({ ...base, paymentId: z.string().regex(/^[a-z]+$/) });
    const after = z.strictObject({ ...base, paymentId: z.string().regex(/^[a-z]{3}$/) });
    expect(changes(before, after)).toEqual([
      'PaymentCharged v1: field "paymentId": pattern changed from "^[a-z]+$" to "^[a-z]{3}$"',
    ]);
  });

  it('a removed message version fails', () => {
    expect(compareSnapshots(snapshotOf({ PaymentCharged }), {})).toEqual([
      'PaymentCharged v1: message removed (old messages of this version could no longer be read)',
    ]);
  });

  it('a new message type passes', () => {
    expect(
      compareSnapshots(
        snapshotOf({ PaymentCharged }),
        snapshotOf({ PaymentCharged, PaymentVoided: PaymentCharged }),
      ),
    ).toEqual([]);
  });

  it('a new version with breaking changes passes beside the untouched old one', () => {
    const previous = snapshotOf({ PaymentCharged });
    const v2 = json(z.strictObject({ orderId: z.uuid(), amount: z.string() }));
    const current = { PaymentCharged: { ...previous.PaymentCharged, '2': v2 } };
    expect(compareSnapshots(previous, current)).toEqual([]);
  });
});
