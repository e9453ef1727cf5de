export { Outbox, type OutgoingMessage } from './outbox.js';
export { OutboxRelay, type RelayLogger, type RelayOptions } from './relay.js';
export { compressionCodecs, createKafka, ensureTopics, type CompressionName } from './kafka.js';
export type { SqlTx } from './sql-tx.js';
