/**
 * A fault outside the message: the database or the broker is unreachable, a deadlock, a
 * serialization failure. The transport waits it out with capped exponential backoff, without
 * counting attempts and without dead-lettering. Throw it from a handler for faults of that kind
 * that the classifier below cannot recognise.
 */
export class TransientError extends Error {
  override name = 'TransientError';
}

/** A message that can never succeed (e.g. refers to something that does not exist): dead-lettered at once. */
export class PermanentError extends Error {
  override name = 'PermanentError';
}

// PostgreSQL SQLSTATEs that say "try again": connection exceptions (08), serialization failure,
// deadlock, server shutting down, out of connections or resources.
const TRANSIENT_SQLSTATE = /^(08...|40001|40P01|57P0[1-3]|53...)$/;
// Prisma: can't reach server, timed out, server closed the connection, pool timeout, transaction
// already closed/expired, write conflict or deadlock.
const TRANSIENT_PRISMA = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028', 'P2034']);
const TRANSIENT_NODE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);
// Prisma driver-adapter error kinds for the same situations.
const TRANSIENT_ADAPTER_KIND = new Set([
  'DatabaseNotReachable',
  'DatabaseDoesNotExist',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
  'TransactionWriteConflict',
  'TransactionAlreadyClosed',
]);
const TRANSIENT_MESSAGE =
  /Connection terminated|connection (is )?closed|Can't reach database server|ECONNREFUSED|ECONNRESET|Transaction already closed|Unable to start a transaction|timeout exceeded when trying to connect|Client has encountered a connection error|KafkaJSConnectionError|KafkaJSNumberOfRetriesExceeded|KafkaJSRequestTimeoutError/i;

/** True when the error (or any error in its `cause` chain) is an infrastructure fault worth waiting out. */
export function isTransient(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    if (current instanceof PermanentError) return false;
    if (current instanceof TransientError) return true;
    const e = current as {
      code?: unknown;
      kind?: unknown;
      name?: unknown;
      message?: unknown;
      cause?: unknown;
    };
    if (
      typeof e.code === 'string' &&
      (TRANSIENT_SQLSTATE.test(e.code) || TRANSIENT_PRISMA.has(e.code) || TRANSIENT_NODE.has(e.code))
    )
      return true;
    if (typeof e.kind === 'string' && TRANSIENT_ADAPTER_KIND.has(e.kind)) return true;
    if (
      typeof e.name === 'string' &&
      /^KafkaJS(Connection|RequestTimeout|NumberOfRetriesExceeded|BrokerNotFound)/.test(e.name)
    )
      return true;
    if (typeof e.message === 'string' && TRANSIENT_MESSAGE.test(e.message)) return true;
    current = e.cause;
  }
  return false;
}
