/** Environment variable holding the prefix that isolates one test run's topics from another's. */
export const KAFKA_TOPIC_PREFIX = 'KAFKA_TOPIC_PREFIX';

/** Every topic the system uses, un-prefixed: `<service>.commands` and `<service>.events`. */
export const topicKeys = [
  'inventory.commands',
  'inventory.events',
  'payment.commands',
  'payment.events',
  'shipping.commands',
  'shipping.events',
  'order.events',
  'ledger.events',
] as const;

/** An un-prefixed topic name, as recorded in the message registry. */
export type TopicKey = (typeof topicKeys)[number];

/** Topic names grouped by service, so code reads `topics.payment.events`. */
export interface Topics {
  readonly inventory: { readonly commands: string; readonly events: string };
  readonly payment: { readonly commands: string; readonly events: string };
  readonly shipping: { readonly commands: string; readonly events: string };
  /** The order service sends commands on the participants' topics; it only publishes events. */
  readonly order: { readonly events: string };
  /** Messaging testbed only: the consumer and outbox libs test themselves on this topic. */
  readonly ledger: { readonly events: string };
}

/**
 * Returns the full name of a topic under a prefix: `topicName('inventory.commands', 't123')` is
 * `t123.inventory.commands`. A prefix that already ends with a dot is used as is.
 */
export function topicName(key: TopicKey, prefix = ''): string {
  if (prefix === '') return key;
  return prefix.endsWith('.') ? `${prefix}${key}` : `${prefix}.${key}`;
}

/**
 * Returns every topic name under `prefix`. Tests pass a prefix of their own so that runs sharing
 * one broker never read each other's messages; services read it from {@link KAFKA_TOPIC_PREFIX}.
 */
export function topicsFor(prefix = ''): Topics {
  const name = (key: TopicKey) => topicName(key, prefix);
  return {
    inventory: { commands: name('inventory.commands'), events: name('inventory.events') },
    payment: { commands: name('payment.commands'), events: name('payment.events') },
    shipping: { commands: name('shipping.commands'), events: name('shipping.events') },
    order: { events: name('order.events') },
    ledger: { events: name('ledger.events') },
  };
}

/** The topic names without a prefix, as production uses them. */
export const topics: Topics = topicsFor();

/** Returns the dead-letter topic of `topic` (prefixed or not): `<topic>.dlt`. */
export function deadLetterTopic(topic: string): string {
  return `${topic}.dlt`;
}
