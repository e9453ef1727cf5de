import { describe, expect, it } from 'vitest';
import { ContractViolation } from './contract-violation.js';
import { causedBy, createEnvelope, parseEnvelope, toMessage } from './envelope.js';
import { exampleOrderId, examples } from './examples.fixture.js';

const correlationId = 'c0ffee00-0000-4000-8000-000000000001';

describe('envelope', () => {
  it('createEnvelope fills version, aggregate and a fresh id from the registry', () => {
    const envelope = createEnvelope('PaymentCharged', examples.PaymentCharged, { correlationId });
    expect(envelope).toMatchObject({
      type: 'PaymentCharged',
      schemaVersion: 1,
      aggregateType: 'Payment',
      aggregateId: exampleOrderId,
      correlationId,
      causationId: null,
      payload: examples.PaymentCharged,
    });
    expect(envelope.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(envelope.occurredAt)).not.toBeNaN();
  });

  it('two envelopes never share a message id', () => {
    const a = createEnvelope('OrderConfirmed', examples.OrderConfirmed, { correlationId });
    const b = createEnvelope('OrderConfirmed', examples.OrderConfirmed, { correlationId });
    expect(a.messageId).not.toBe(b.messageId);
  });

  it('a reaction keeps the correlation id and is caused by the message it reacts to', () => {
    const placed = createEnvelope('OrderPlaced', examples.OrderPlaced, { correlationId });
    const reserve = createEnvelope('ReserveStock', examples.ReserveStock, causedBy(placed));
    expect(reserve.correlationId).toBe(correlationId);
    expect(reserve.causationId).toBe(placed.messageId);
  });

  it('createEnvelope refuses an invalid payload', () => {
    expect(() =>
      createEnvelope('PaymentCharged', { ...examples.PaymentCharged, amount: -5 }, { correlationId }),
    ).toThrow(ContractViolation);
  });

  it('toMessage tags the payload with its type for handlers to switch on', () => {
    const envelope = createEnvelope('PaymentDeclined', examples.PaymentDeclined, { correlationId });
    expect(toMessage(envelope)).toEqual({ type: 'PaymentDeclined', ...examples.PaymentDeclined });
  });

  it('parseEnvelope accepts what createEnvelope produced', () => {
    const envelope = createEnvelope('StockReserved', examples.StockReserved, {
      correlationId,
      traceparent: 'tp',
    });
    expect(parseEnvelope(JSON.parse(JSON.stringify(envelope)))).toEqual(envelope);
  });

  it('an aggregate id that differs from the payload order id is a violation', () => {
    const envelope = createEnvelope('StockReserved', examples.StockReserved, { correlationId });
    expect(() => parseEnvelope({ ...envelope, aggregateId: 'other' })).toThrow(
      `StockReserved v1: aggregateId: is "other", expected the payload's orderId "${exampleOrderId}"`,
    );
  });

  it('an aggregate type that differs from the registry is a violation', () => {
    const envelope = createEnvelope('StockReserved', examples.StockReserved, { correlationId });
    expect(() => parseEnvelope({ ...envelope, aggregateType: 'Order' })).toThrow(
      'StockReserved v1: aggregateType: is "Order", expected "StockReservation"',
    );
  });

  it('frame fields are validated: message id must be a uuid, version at least 1', () => {
    const envelope = createEnvelope('OrderConfirmed', examples.OrderConfirmed, { correlationId });
    let error: unknown;
    try {
      parseEnvelope({ ...envelope, messageId: 'nope', schemaVersion: 0 });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ContractViolation);
    expect((error as ContractViolation).issues.map((issue) => issue.path)).toEqual([
      'messageId',
      'schemaVersion',
    ]);
  });

  it('an unknown field in the frame is refused', () => {
    const envelope = createEnvelope('OrderConfirmed', examples.OrderConfirmed, { correlationId });
    expect(() => parseEnvelope({ ...envelope, tenant: 'x' })).toThrow(
      'OrderConfirmed v1: tenant: unknown field',
    );
  });
});
