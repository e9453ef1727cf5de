import { currentVersion, messageSpec, type MessageType, type TopicKey } from '@order-saga/contracts';

export const serviceNames = ['order', 'inventory', 'payment', 'shipping'] as const;
export type ServiceName = (typeof serviceNames)[number];

/**
 * The message types each service's consumer hands to a handler, as its message controller
 * declares them (`@HandleMessage`, the saga listener's topics). A consumer skips every other type
 * on the topics it reads, as the inbox transport does.
 */
export const handledBy: Readonly<Record<ServiceName, readonly MessageType[]>> = {
  order: [
    'StockReserved',
    'StockUnavailable',
    'StockReleased',
    'PaymentCharged',
    'PaymentDeclined',
    'PaymentRefunded',
    'ShipmentCreated',
    'ShipmentRefused',
    'ShipmentCancelled',
  ],
  inventory: ['ReserveStock', 'ReleaseStock', 'OrderConfirmed'],
  payment: ['ChargePayment', 'RefundPayment'],
  shipping: ['CreateShipment', 'CancelShipment'],
};

const topics = new Map<string, TopicKey>();

/** The topic a message type travels on, from the contracts' registry (the relay routes the same way). */
export function topicOf(type: string): TopicKey {
  let topic = topics.get(type);
  if (!topic) {
    topic = messageSpec(type, currentVersion(type)).topic;
    topics.set(type, topic);
  }
  return topic;
}

/** The topics each service's consumer group subscribes to. */
export const subscriptions: Readonly<Record<ServiceName, readonly TopicKey[]>> = Object.fromEntries(
  serviceNames.map((name) => [name, [...new Set(handledBy[name].map(topicOf))]]),
) as Record<ServiceName, TopicKey[]>;

/**
 * The partition of a key. Any stable hash keeps what the system relies on: one key, one
 * partition, so one order's messages on a topic are read in the order they were published.
 */
export function partitionOf(key: string, partitions: number): number {
  // FNV-1a, 32 bits.
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}
