export { Outbox, type OutboxOptions, type OutgoingMessage } from './outbox.js';
export { OutboxRelay, type AcknowledgedBatch, type RelayLogger, type RelayOptions } from './relay.js';
export {
  holdAfterSend,
  holdIfArmed,
  type DrillHold,
  type DrillHoldOptions,
  type HeldBatch,
} from './fault-hook.js';
export {
  DEFAULT_TOPIC_RETENTION_HOURS,
  KAFKA_DEFAULT_MESSAGE_MAX_BYTES,
  TOPIC_SEGMENT_HOURS,
  brokerMessageMaxBytes,
  compressionCodecs,
  createKafka,
  ensureTopics,
  isPermanentKafkaError,
  subscribeRetrying,
  type CompressionName,
  type TopicSettings,
} from './kafka.js';
export { purgeInBatches, type ExecuteSql, type PurgeSpec } from './purge.js';
export type { SqlTx } from './sql-tx.js';
