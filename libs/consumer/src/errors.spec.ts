import { describe, expect, it } from 'vitest';
import { PermanentError, TransientError, isTransient } from './errors.js';

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
