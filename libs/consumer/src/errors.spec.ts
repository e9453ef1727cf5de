import { describe, expect, it } from 'vitest';
import {
  PermanentError,
  TransactionTimeoutError,
  TransientError,
  isRetriableKafkaError,
  isTransactionTimeout,
  isTransient,
} from './errors.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isTransient: what the transport waits out instead of counting as a failed attempt', () => {
  it.each([
    ['connection refused', withCode('ECONNREFUSED')],
    ['PostgreSQL connection failure (08006)', withCode('08006')],
    ['serialization failure', withCode('40001')],
    ['deadlock', withCode('40P01')],
    ['server shutting down', withCode('57P01')],
    ['too many connections', withCode('53300')],
    ["Prisma can't reach the server", withCode('P1001')],
    ['Prisma pool timeout', withCode('P2024')],
    [
      'driver adapter: database not reachable',
      Object.assign(new Error('x'), { kind: 'DatabaseNotReachable' }),
    ],
    ['a connection error wrapped as the cause', new Error('query failed', { cause: withCode('ECONNRESET') })],
    ['kafkajs connection error', Object.assign(new Error('broker gone'), { name: 'KafkaJSConnectionError' })],
    ['an explicit TransientError', new TransientError('try later')],
  ])('waits out %s', (_, error) => {
    expect(isTransient(error)).toBe(true);
  });

  it.each([
    ['a plain handler bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a unique violation (23505)', withCode('23505')],
    ['Prisma record not found', withCode('P2025')],
    [
      'a PermanentError, even caused by a connection error',
      new PermanentError('never', { cause: withCode('ECONNREFUSED') }),
    ],
    ['a non-error value', 'boom'],
  ])('counts %s as a failed attempt', (_, error) => {
    expect(isTransient(error)).toBe(false);
  });

  it('survives a cause cycle', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(isTransient(a)).toBe(false);
  });
});

describe('isTransactionTimeout: a transaction that outlived its timeout is a failed attempt, not an outage', () => {
  const expired = Object.assign(
    new Error('Transaction API error: A commit cannot be executed on an expired transaction. The timeout for this transaction was 200 ms'),
    { code: 'P2028', meta: { operation: 'commit', timeout: 200, timeTaken: 404 } },
  );

  it('recognises Prisma P2028 on an expired transaction, and is then not transient', () => {
    expect(isTransactionTimeout(expired)).toBe(true);
    expect(isTransient(expired)).toBe(false);
  });

  it('recognises the pg runner timeout, also as a cause', () => {
    expect(isTransactionTimeout(new Error('handler failed', { cause: new TransactionTimeoutError('x') }))).toBe(true);
  });

  it('leaves P2028 "unable to start a transaction" (a pool wait) transient', () => {
    const poolWait = Object.assign(new Error('Unable to start a transaction in the given time.'), { code: 'P2028' });
    expect(isTransactionTimeout(poolWait)).toBe(false);
    expect(isTransient(poolWait)).toBe(true);
  });
});

describe('isRetriableKafkaError: what a dead-letter produce waits out', () => {
  const kafkaError = (name: string, fields: object, cause?: unknown) =>
    Object.assign(new Error(name), { name, ...fields }, cause ? { cause } : {});

  it.each([
    ['record too large', kafkaError('KafkaJSNonRetriableError', { retriable: false }, kafkaError('KafkaJSProtocolError', { type: 'MESSAGE_TOO_LARGE', retriable: false }))],
    ['topic authorization failed', kafkaError('KafkaJSProtocolError', { type: 'TOPIC_AUTHORIZATION_FAILED', retriable: false })],
  ])('gives up on %s', (_, error) => {
    expect(isRetriableKafkaError(error)).toBe(false);
  });

  it.each([
    ['a connection error', kafkaError('KafkaJSConnectionError', { retriable: true })],
    ['retries exhausted while the broker was away', kafkaError('KafkaJSNumberOfRetriesExceeded', { retriable: false }, kafkaError('KafkaJSConnectionError', { retriable: true }))],
    ['an unmarked error', new Error('socket hang up')],
  ])('waits out %s', (_, error) => {
    expect(isRetriableKafkaError(error)).toBe(true);
  });
});
