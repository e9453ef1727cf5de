export {
  KafkaInboxTransport,
  type InboxOutcome,
  type InboxTransportOptions,
  type TransactionRunner,
} from './inbox.transport.js';
export { holdAfterCommit, type CommittedRun, type HeldRun } from './fault-hook.js';
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
export { DLT_HEADERS, REPLAYED_FROM_HEADER, REPLAY_MARKER_HEADERS } from './dead-letter.js';
export {
  readDeadLetters,
  deadLetterRecordOf,
  headerText,
  matchesDeadLetter,
  replayDeadLetters,
  summarizeDeadLetters,
  DEAD_LETTER_READER_GROUP_PREFIX,
  type DeadLetterRecord,
  type DeadLetterFilter,
  type DeadLetterSummary,
  type ReplayRun,
} from './dead-letter-store.js';
export { PgTx, pgTransaction } from './pg-transaction.js';
