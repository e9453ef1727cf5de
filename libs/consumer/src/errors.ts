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

/**
 * The handler transaction ran longer than its timeout and was rolled back. Not an outage: the
 * same work would time out again, so the transport counts it as a failed attempt and splits the
 * chunk until the slow message is alone (then it is retried and dead-lettered like any failure).
 */
export class TransactionTimeoutError extends Error {
  override name = 'TransactionTimeoutError';
}

/**
 * True when the error (or its cause) says the transaction outlived its timeout: our own
 * {@link TransactionTimeoutError}, or Prisma's P2028 on an expired interactive transaction (which
 * carries the timeout in `meta`; P2028 without it is "unable to start a transaction", a pool wait).
 */
export function isTransactionTimeout(error: unknown): boolean {
  return inCauseChain(error, (e) => {
    if (e instanceof TransactionTimeoutError) return true;
    const { code, meta, message } = e as { code?: unknown; meta?: { timeout?: unknown }; message?: unknown };
    if (code !== 'P2028') return false;
    return meta?.timeout !== undefined || (typeof message === 'string' && /expired transaction/i.test(message));
  });
}

/**
 * Whether a Kafka client error may succeed if the same request is sent again. kafkajs marks its
 * errors with `retriable` (a broker answer such as MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE or
 * TOPIC_AUTHORIZATION_FAILED is not); anything unmarked (a connection drop, a timeout, retries
 * exhausted while the broker was away) is taken as retriable, so an outage is still waited out.
 */
export function isRetriableKafkaError(error: unknown): boolean {
  return !inCauseChain(error, (e) => {
    const { retriable, name } = e as { retriable?: unknown; name?: unknown };
    // "Retries exceeded" is itself marked non-retriable, but it wraps the error that was retried:
    // that one decides.
    if (name === 'KafkaJSNumberOfRetriesExceeded') return false;
    return retriable === false;
  });
}

function inCauseChain(error: unknown, test: (e: object) => boolean): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    if (test(current)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
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
  // P2028 also means "expired transaction", which would expire again: a failed attempt, not an outage.
  if (isTransactionTimeout(error)) return false;
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
