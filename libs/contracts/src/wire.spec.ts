import { describe, expect, it } from 'vitest';
import { createEnvelope } from './envelope.js';
import { exampleOrderId, examples } from './examples.fixture.js';
import { fromKafkaMessage, toKafkaMessage, type IncomingKafkaMessage } from './wire.js';

const correlationId = 'c0ffee00-0000-4000-8000-000000000001';
const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function anEnvelope() {
  return createEnvelope('ReserveStock', examples.ReserveStock, {
    correlationId,
    causationId: 'a3d1c9e2-1111-4222-8333-444455556666',
    traceparent,
    tracestate: 'vendor=1',
  });
}

/** What a kafkajs consumer hands over: everything as Buffers. */
function asConsumed(message: ReturnType<typeof toKafkaMessage>): IncomingKafkaMessage {
  return {
    key: Buffer.from(message.key),
    value: Buffer.from(message.value),
    headers: Object.fromEntries(
      Object.entries(message.headers).map(([name, value]) => [name, Buffer.from(value)]),
    ),
  };
}

function decodeError(message: IncomingKafkaMessage): string {
  const result = fromKafkaMessage(message);
  if (result.ok) throw new Error('expected a contract violation');
  return result.error.message;
}

describe('wire format', () => {
  it('keys by aggregate id, carries only the payload in the value and the rest in headers', () => {
    const envelope = anEnvelope();
    expect(toKafkaMessage(envelope)).toEqual({
      key: exampleOrderId,
      value: JSON.stringify(examples.ReserveStock),
      headers: {
        id: envelope.messageId,
        type: 'ReserveStock',
        'schema-version': '1',
        'occurred-at': envelope.occurredAt,
        'aggregate-type': 'StockReservation',
        'correlation-id': correlationId,
        'causation-id': 'a3d1c9e2-1111-4222-8333-444455556666',
        traceparent,
        tracestate: 'vendor=1',
      },
    });
  });

  it('round-trips an envelope through Buffers', () => {
    const envelope = anEnvelope();
    expect(fromKafkaMessage(asConsumed(toKafkaMessage(envelope)))).toEqual({ ok: true, envelope });
  });

  it('round-trips the first message of a flow: no causation, no trace headers', () => {
    const envelope = createEnvelope('OrderPlaced', examples.OrderPlaced, { correlationId });
    const wire = toKafkaMessage(envelope);
    expect(Object.keys(wire.headers)).not.toContain('causation-id');
    expect(Object.keys(wire.headers)).not.toContain('traceparent');
    expect(fromKafkaMessage(asConsumed(wire))).toEqual({ ok: true, envelope });
  });

  it('accepts a header repeated with the same value', () => {
    const wire = asConsumed(toKafkaMessage(anEnvelope()));
    wire.headers!['type'] = [Buffer.from('ReserveStock'), 'ReserveStock'];
    expect(fromKafkaMessage(wire).ok).toBe(true);
  });

  it('refuses to encode an invalid envelope', () => {
    const envelope = anEnvelope();
    expect(() => toKafkaMessage({ ...envelope, payload: { ...envelope.payload, items: [] } })).toThrow(
      /^ReserveStock v1: items: Too small/,
    );
  });
});

describe('decoding names exactly what is wrong', () => {
  const consumed = () => asConsumed(toKafkaMessage(anEnvelope()));

  it('a missing header', () => {
    const message = consumed();
    delete message.headers!['type'];
    expect(decodeError(message)).toBe('Kafka message: header "type": missing');
  });

  it('every missing header at once', () => {
    expect(decodeError({ ...consumed(), headers: {} })).toBe(
      'Kafka message: header "id": missing; header "type": missing; header "schema-version": missing; ' +
        'header "occurred-at": missing; header "aggregate-type": missing; header "correlation-id": missing',
    );
  });

  it('a header repeated with different values', () => {
    const message = consumed();
    message.headers!['type'] = ['ReserveStock', 'ReleaseStock'];
    expect(decodeError(message)).toBe('Kafka message: header "type": appears 2 times with different values');
  });

  it('a schema version that is not a positive integer', () => {
    const message = consumed();
    message.headers!['schema-version'] = 'v1';
    expect(decodeError(message)).toBe(
      'Kafka message: header "schema-version": expected a positive integer, got "v1"',
    );
  });

  it('an unknown type', () => {
    const message = consumed();
    message.headers!['type'] = 'Foo';
    message.headers!['schema-version'] = '2';
    expect(decodeError(message)).toBe('Foo v2: unknown message type "Foo"');
  });

  it('an unknown version of a known type', () => {
    const message = consumed();
    message.headers!['schema-version'] = '2';
    expect(decodeError(message)).toBe('ReserveStock v2: unknown version 2 of message type "ReserveStock"');
  });

  it('invalid JSON', () => {
    expect(decodeError({ ...consumed(), value: Buffer.from('{"orderId":') })).toMatch(
      /^ReserveStock v1: value: invalid JSON: /,
    );
  });

  it('a tombstone (null value)', () => {
    expect(decodeError({ ...consumed(), value: null })).toBe(
      'ReserveStock v1: value: missing (a tombstone is not a message)',
    );
  });

  it('a missing key', () => {
    expect(decodeError({ ...consumed(), key: null })).toBe(
      'ReserveStock v1: key: missing (it must be the aggregate id)',
    );
  });

  it('a key that is not the payload order id', () => {
    expect(decodeError({ ...consumed(), key: Buffer.from('someone-else') })).toBe(
      `ReserveStock v1: key: is "someone-else", expected the payload's orderId "${exampleOrderId}"`,
    );
  });

  it('an invalid field, by its path in the payload', () => {
    const value = JSON.stringify({ ...examples.ReserveStock, items: [{ sku: 'SKU-1', quantity: 0 }] });
    expect(decodeError({ ...consumed(), value: Buffer.from(value) })).toBe(
      'ReserveStock v1: items[0].quantity: Too small: expected number to be >0',
    );
  });

  it('a field the producer invented', () => {
    const value = JSON.stringify({ ...examples.ReserveStock, priority: 'high' });
    expect(decodeError({ ...consumed(), value: Buffer.from(value) })).toBe(
      'ReserveStock v1: priority: unknown field',
    );
  });

  it('a message id header that is not a uuid', () => {
    const message = consumed();
    message.headers!['id'] = '42';
    expect(decodeError(message)).toBe('ReserveStock v1: header "id": Invalid UUID');
  });

  it('an occurred-at header that is not an ISO date-time', () => {
    const message = consumed();
    message.headers!['occurred-at'] = 'yesterday';
    expect(decodeError(message)).toBe('ReserveStock v1: header "occurred-at": Invalid ISO datetime');
  });

  it('an aggregate-type header that does not match the message', () => {
    const message = consumed();
    message.headers!['aggregate-type'] = 'Order';
    expect(decodeError(message)).toBe(
      'ReserveStock v1: header "aggregate-type": is "Order", expected "StockReservation"',
    );
  });
});
