export {
  KafkaInboxTransport,
  type InboxOutcome,
  type InboxTransportOptions,
  type TransactionRunner,
} from './inbox.transport.js';
export { InboxContext } from './inbox-context.js';
export { HandleMessage, type HandleMessageOptions } from './handle-message.decorator.js';
export { RethrowRpcExceptionFilter } from './rethrow-rpc.filter.js';
export {
  PermanentError,
  TransactionTimeoutError,
  TransientError,
  isRetriableKafkaError,
  isTransactionTimeout,
  isTransient,
} from './errors.js';
export { DLT_HEADERS, REPLAYED_FROM_HEADER } from './dead-letter.js';
export {
  readDeadLetters,
  replayDeadLetters,
  type DeadLetterRecord,
  type DeadLetterFilter,
} from './dead-letter-store.js';
export { PgTx, pgTransaction } from './pg-transaction.js';
