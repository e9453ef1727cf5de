import { describe, expect, it } from 'vitest';
import { createEnvelope } from './envelope.js';
import { exampleOrderId, examples } from './examples.fixture.js';
import { limits } from './common.js';
import { OrderPlaced } from './order.js';
import { fromKafkaMessage, toKafkaMessage, wireLimits, type IncomingKafkaMessage } from './wire.js';

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

  it('reads a header with a null value as absent, as Debezium writes the NULL columns of a first message', () => {
    const envelope = createEnvelope('OrderPlaced', examples.OrderPlaced, { correlationId });
    const wire = asConsumed(toKafkaMessage(envelope));
    // kafkajs delivers a header whose value length is -1 as null.
    const headers = wire.headers as Record<string, unknown>;
    headers['causation-id'] = null;
    headers['traceparent'] = null;
    headers['tracestate'] = null;
    expect(fromKafkaMessage(wire)).toEqual({ ok: true, envelope });
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

describe('bounded sizes on the wire', () => {
  const consumed = () => asConsumed(toKafkaMessage(anEnvelope()));

  it('refuses a message with more header values than the limit, before decoding any', () => {
    const wire = consumed();
    for (let i = 0; i < wireLimits.headers; i++) wire.headers![`x-filler-${i}`] = 'x';
    expect(decodeError(wire)).toBe(
      `Kafka message: headers: ${wireLimits.headers + 9} header values, at most 32`,
    );
  });

  it('counts every repetition of a repeated header toward the limit', () => {
    const wire = consumed();
    wire.headers!['x-repeated'] = Array.from({ length: 40 }, () => 'x');
    expect(decodeError(wire)).toMatch(/^Kafka message: headers: 49 header values, at most 32$/);
  });

  it('refuses an oversized header value and says which header', () => {
    const wire = consumed();
    wire.headers!['tracestate'] = Buffer.alloc(wireLimits.headerValueBytes + 1, 'a');
    expect(decodeError(wire)).toBe('Kafka message: header "tracestate": 1025 bytes, at most 1024');
  });

  it('refuses an oversized header value even in a header it does not read', () => {
    const wire = consumed();
    wire.headers!['x-unread'] = 'é'.repeat(513);
    expect(decodeError(wire)).toBe('Kafka message: header "x-unread": 1026 bytes, at most 1024');
  });

  it('refuses an oversized header name, showing only its start', () => {
    const wire = consumed();
    wire.headers!['n'.repeat(300)] = 'x';
    expect(decodeError(wire)).toBe(`Kafka message: header name "${'n'.repeat(32)}…": 300 bytes, at most 256`);
  });

  it('refuses an oversized key or value without parsing it', () => {
    const wire = consumed();
    wire.key = Buffer.alloc(wireLimits.keyBytes + 1, 'k');
    wire.value = `[${'1,'.repeat(wireLimits.valueBytes / 2)}1]`;
    expect(decodeError(wire)).toBe(
      `Kafka message: key: 1025 bytes, at most 1024; value: ${wireLimits.valueBytes + 3} bytes, at most ${wireLimits.valueBytes}`,
    );
  });

  it('accepts a message exactly at the limits', () => {
    const wire = consumed();
    for (let i = Object.keys(wire.headers!).length; i < wireLimits.headers; i++) {
      wire.headers![`x-filler-${i}`] = Buffer.alloc(wireLimits.headerValueBytes, 'x');
    }
    expect(fromKafkaMessage(wire).ok).toBe(true);
  });
});

describe('bounded sizes in the payload', () => {
  const wireWith = (payload: object) => {
    const wire = asConsumed(toKafkaMessage(anEnvelope()));
    wire.value = JSON.stringify(payload);
    return wire;
  };

  it('refuses a line count over the limit of POST /orders', () => {
    const items = Array.from({ length: limits.orderLines + 1 }, (_, i) => ({ sku: `sku-${i}`, quantity: 1 }));
    expect(decodeError(wireWith({ ...examples.ReserveStock, items }))).toMatch(
      /^ReserveStock v1: items: Too big: expected array to have <=100 items$/,
    );
  });

  it('refuses an oversized sku, with its path', () => {
    const items = [{ sku: 's'.repeat(limits.sku + 1), quantity: 1 }];
    expect(decodeError(wireWith({ ...examples.ReserveStock, items }))).toMatch(
      /^ReserveStock v1: items\[0\]\.sku: Too big: expected string to have <=100 characters$/,
    );
  });

  it('refuses an oversized reason, customer id or address line', () => {
    const reason = createEnvelope(
      'ReleaseStock',
      { orderId: exampleOrderId, reason: 'r' },
      { correlationId },
    );
    const wire = asConsumed(toKafkaMessage(reason));
    wire.value = JSON.stringify({ orderId: exampleOrderId, reason: 'r'.repeat(limits.reason + 1) });
    expect(decodeError(wire)).toMatch(
      /^ReleaseStock v1: reason: Too big: expected string to have <=500 characters$/,
    );

    expect(() =>
      OrderPlaced.parse({ ...examples.OrderPlaced, customerId: 'c'.repeat(limits.id + 1) }),
    ).toThrow(/<=200 characters/);
    expect(() =>
      OrderPlaced.parse({
        ...examples.OrderPlaced,
        shippingAddress: {
          ...examples.OrderPlaced.shippingAddress,
          line1: 'l'.repeat(limits.addressLine + 1),
        },
      }),
    ).toThrow(/<=200 characters/);
  });

  it('refuses an oversized id in the frame', () => {
    const wire = asConsumed(toKafkaMessage(anEnvelope()));
    wire.headers!['correlation-id'] = 'c'.repeat(limits.id + 1);
    expect(decodeError(wire)).toMatch(
      /^ReserveStock v1: header "correlation-id": Too big: expected string to have <=200 characters$/,
    );
  });
});
