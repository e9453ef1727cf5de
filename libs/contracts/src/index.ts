export { ContractViolation, formatIssue, type ContractIssue } from './contract-violation.js';
export {
  KAFKA_TOPIC_PREFIX,
  deadLetterTopic,
  topicKeys,
  topicName,
  topics,
  topicsFor,
  type TopicKey,
  type Topics,
} from './topics.js';
export { Address, Money, OrderId, OrderLine, OrderLines, Reason, TextId, limits } from './common.js';
export { ReleaseStock, ReserveStock, StockReleased, StockReserved, StockUnavailable } from './inventory.js';
export { ChargePayment, PaymentCharged, PaymentDeclined, PaymentRefunded, RefundPayment } from './payment.js';
export {
  CancelShipment,
  CreateShipment,
  ShipmentCancelled,
  ShipmentCreated,
  ShipmentRefused,
} from './shipping.js';
export {
  OrderCancelled,
  OrderCompensationFailed,
  OrderConfirmed,
  OrderPlaced,
  OrderRejected,
} from './order.js';
export { LedgerEntryRecorded } from './ledger.js';
export {
  currentVersion,
  messageSpec,
  messageSpecs,
  validateMessage,
  type InventoryCommand,
  type InventoryEvent,
  type Message,
  type MessageSpec,
  type MessageType,
  type MessageTypeOn,
  type OrderEvent,
  type PaymentCommand,
  type PaymentEvent,
  type PayloadOf,
  type ShippingCommand,
  type ShippingEvent,
  type VersionOf,
} from './registry.js';
export {
  Envelope,
  causedBy,
  createEnvelope,
  parseEnvelope,
  toMessage,
  type EnvelopeMeta,
} from './envelope.js';
export {
  encodeHeaders,
  fromKafkaMessage,
  toKafkaMessage,
  wireHeaders,
  wireLimits,
  type DecodeResult,
  type HeaderFields,
  type IncomingHeaderValue,
  type IncomingKafkaMessage,
  type OutgoingKafkaMessage,
} from './wire.js';
export {
  schemaSnapshot,
  serializeSnapshot,
  type JsonSchema,
  type SchemaSnapshot,
} from './compat/snapshot.js';
export { compareSchemas, compareSnapshots } from './compat/compare.js';
export { maskPii, piiFields, pseudonym } from './pii.js';
