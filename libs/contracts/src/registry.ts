import type { z } from 'zod';
import { ContractViolation, issuesFromZod } from './contract-violation.js';
import { ChargePayment, PaymentCharged, PaymentDeclined, PaymentRefunded, RefundPayment } from './payment.js';
import { ReleaseStock, ReserveStock, StockReleased, StockReserved, StockUnavailable } from './inventory.js';
import {
  CancelShipment,
  CreateShipment,
  ShipmentCancelled,
  ShipmentCreated,
  ShipmentRefused,
} from './shipping.js';
import {
  OrderCancelled,
  OrderCompensationFailed,
  OrderConfirmed,
  OrderPlaced,
  OrderRejected,
} from './order.js';
import { LedgerEntryRecorded } from './ledger.js';
import type { TopicKey } from './topics.js';

/** What the system knows about one version of one message. */
export interface MessageSpec {
  /** The message's name, also its `type` header: `PaymentCharged`. */
  readonly type: string;
  /** Starts at 1; a breaking change is a new version, registered beside the old one. */
  readonly schemaVersion: number;
  /** Validates the payload; objects are strict, so a field the schema does not name is refused. */
  readonly schema: z.ZodObject;
  /** The un-prefixed topic the message travels on. */
  readonly topic: TopicKey;
  /** Commands ask one participant to act; events state what happened. */
  readonly kind: 'command' | 'event';
  /** The kind of aggregate the message is about, sent as the `aggregate-type` header. */
  readonly aggregateType: string;
  /**
   * The payload field that holds the aggregate id, which is also the Kafka key. For every saga
   * message it is `orderId`: Kafka orders messages only within a partition, so keying by order id
   * keeps one order's messages in sequence for every participant.
   */
  readonly aggregateIdField: string;
}

function defineMessage<
  const T extends string,
  const V extends number,
  S extends z.ZodObject,
  const K extends TopicKey,
  const A extends string,
  const F extends keyof z.infer<S> & string,
>(spec: {
  type: T;
  schemaVersion: V;
  schema: S;
  topic: K;
  kind: 'command' | 'event';
  aggregateType: A;
  aggregateIdField: F;
}) {
  return Object.freeze(spec);
}

// Each participant keeps one aggregate per order, identified by the order id; commands name the
// aggregate they ask to change, events the one that changed.
const inventory = { aggregateType: 'StockReservation', aggregateIdField: 'orderId' } as const;
const payment = { aggregateType: 'Payment', aggregateIdField: 'orderId' } as const;
const shipping = { aggregateType: 'Shipment', aggregateIdField: 'orderId' } as const;
const order = { aggregateType: 'Order', aggregateIdField: 'orderId' } as const;

/** Every registered message version. Adding a version of a type means adding an entry here. */
export const messageSpecs = [
  defineMessage({
    type: 'ReserveStock',
    schemaVersion: 1,
    schema: ReserveStock,
    topic: 'inventory.commands',
    kind: 'command',
    ...inventory,
  }),
  defineMessage({
    type: 'ReleaseStock',
    schemaVersion: 1,
    schema: ReleaseStock,
    topic: 'inventory.commands',
    kind: 'command',
    ...inventory,
  }),
  defineMessage({
    type: 'StockReserved',
    schemaVersion: 1,
    schema: StockReserved,
    topic: 'inventory.events',
    kind: 'event',
    ...inventory,
  }),
  defineMessage({
    type: 'StockUnavailable',
    schemaVersion: 1,
    schema: StockUnavailable,
    topic: 'inventory.events',
    kind: 'event',
    ...inventory,
  }),
  defineMessage({
    type: 'StockReleased',
    schemaVersion: 1,
    schema: StockReleased,
    topic: 'inventory.events',
    kind: 'event',
    ...inventory,
  }),

  defineMessage({
    type: 'ChargePayment',
    schemaVersion: 1,
    schema: ChargePayment,
    topic: 'payment.commands',
    kind: 'command',
    ...payment,
  }),
  defineMessage({
    type: 'RefundPayment',
    schemaVersion: 1,
    schema: RefundPayment,
    topic: 'payment.commands',
    kind: 'command',
    ...payment,
  }),
  defineMessage({
    type: 'PaymentCharged',
    schemaVersion: 1,
    schema: PaymentCharged,
    topic: 'payment.events',
    kind: 'event',
    ...payment,
  }),
  defineMessage({
    type: 'PaymentDeclined',
    schemaVersion: 1,
    schema: PaymentDeclined,
    topic: 'payment.events',
    kind: 'event',
    ...payment,
  }),
  defineMessage({
    type: 'PaymentRefunded',
    schemaVersion: 1,
    schema: PaymentRefunded,
    topic: 'payment.events',
    kind: 'event',
    ...payment,
  }),

  defineMessage({
    type: 'CreateShipment',
    schemaVersion: 1,
    schema: CreateShipment,
    topic: 'shipping.commands',
    kind: 'command',
    ...shipping,
  }),
  defineMessage({
    type: 'CancelShipment',
    schemaVersion: 1,
    schema: CancelShipment,
    topic: 'shipping.commands',
    kind: 'command',
    ...shipping,
  }),
  defineMessage({
    type: 'ShipmentCreated',
    schemaVersion: 1,
    schema: ShipmentCreated,
    topic: 'shipping.events',
    kind: 'event',
    ...shipping,
  }),
  defineMessage({
    type: 'ShipmentRefused',
    schemaVersion: 1,
    schema: ShipmentRefused,
    topic: 'shipping.events',
    kind: 'event',
    ...shipping,
  }),
  defineMessage({
    type: 'ShipmentCancelled',
    schemaVersion: 1,
    schema: ShipmentCancelled,
    topic: 'shipping.events',
    kind: 'event',
    ...shipping,
  }),

  defineMessage({
    type: 'OrderPlaced',
    schemaVersion: 1,
    schema: OrderPlaced,
    topic: 'order.events',
    kind: 'event',
    ...order,
  }),
  defineMessage({
    type: 'OrderConfirmed',
    schemaVersion: 1,
    schema: OrderConfirmed,
    topic: 'order.events',
    kind: 'event',
    ...order,
  }),
  defineMessage({
    type: 'OrderRejected',
    schemaVersion: 1,
    schema: OrderRejected,
    topic: 'order.events',
    kind: 'event',
    ...order,
  }),
  defineMessage({
    type: 'OrderCancelled',
    schemaVersion: 1,
    schema: OrderCancelled,
    topic: 'order.events',
    kind: 'event',
    ...order,
  }),
  defineMessage({
    type: 'OrderCompensationFailed',
    schemaVersion: 1,
    schema: OrderCompensationFailed,
    topic: 'order.events',
    kind: 'event',
    ...order,
  }),

  // Messaging testbed only (see LedgerEntryRecorded).
  defineMessage({
    type: 'LedgerEntryRecorded',
    schemaVersion: 1,
    schema: LedgerEntryRecorded,
    topic: 'ledger.events',
    kind: 'event',
    aggregateType: 'Ledger',
    aggregateIdField: 'aggregateId',
  }),
] as const satisfies readonly MessageSpec[];

type RegisteredSpec = (typeof messageSpecs)[number];

/** The name of every registered message. */
export type MessageType = RegisteredSpec['type'];

/** The registered versions of a message type. */
export type VersionOf<T extends MessageType> = Extract<RegisteredSpec, { type: T }>['schemaVersion'];

/** The payload of a message type; with no version given, the union over its versions. */
export type PayloadOf<T extends MessageType, V extends VersionOf<T> = VersionOf<T>> = z.infer<
  Extract<RegisteredSpec, { type: T; schemaVersion: V }>['schema']
>;

/** The message types that travel on a topic. */
export type MessageTypeOn<K extends TopicKey> = Extract<RegisteredSpec, { topic: K }>['type'];

/** A payload tagged with its type, so a handler can `switch (message.type)` and get the payload's fields narrowed. */
export type Message<T extends MessageType = MessageType> = T extends MessageType
  ? { readonly type: T } & PayloadOf<T>
  : never;

/** Commands the inventory service handles. */
export type InventoryCommand = Message<MessageTypeOn<'inventory.commands'>>;
/** Events the inventory service publishes. */
export type InventoryEvent = Message<MessageTypeOn<'inventory.events'>>;
/** Commands the payment service handles. */
export type PaymentCommand = Message<MessageTypeOn<'payment.commands'>>;
/** Events the payment service publishes. */
export type PaymentEvent = Message<MessageTypeOn<'payment.events'>>;
/** Commands the shipping service handles. */
export type ShippingCommand = Message<MessageTypeOn<'shipping.commands'>>;
/** Events the shipping service publishes. */
export type ShippingEvent = Message<MessageTypeOn<'shipping.events'>>;
/** Events the order service publishes. */
export type OrderEvent = Message<MessageTypeOn<'order.events'>>;

const byKey = new Map<string, MessageSpec>();
const latest = new Map<string, number>();
for (const spec of messageSpecs as readonly MessageSpec[]) {
  const key = `${spec.type}@${spec.schemaVersion}`;
  // Two entries for one version would make the schema used depend on array order.
  if (byKey.has(key)) throw new Error(`message ${spec.type} v${spec.schemaVersion} is registered twice`);
  byKey.set(key, spec);
  latest.set(spec.type, Math.max(latest.get(spec.type) ?? 0, spec.schemaVersion));
}

/**
 * Returns the spec of one message version.
 * @throws ContractViolation when the type, or that version of it, is not registered.
 */
export function messageSpec(type: string, schemaVersion: number): MessageSpec {
  const spec = byKey.get(`${type}@${schemaVersion}`);
  if (spec) return spec;
  const known = latest.has(type);
  throw new ContractViolation(`${type} v${schemaVersion}`, [
    {
      path: '',
      message: known
        ? `unknown version ${schemaVersion} of message type "${type}"`
        : `unknown message type "${type}"`,
    },
  ]);
}

/**
 * Returns the highest registered version of a message type: the one producers publish.
 * @throws ContractViolation when the type is not registered.
 */
export function currentVersion(type: string): number {
  const version = latest.get(type);
  if (version === undefined) {
    throw new ContractViolation(type, [{ path: '', message: `unknown message type "${type}"` }]);
  }
  return version;
}

// zod's wording for a missing field is "expected string, received undefined"; say it plainly.
const missingFieldFirst: z.core.$ZodErrorMap = (issue) =>
  issue.code === 'invalid_type' && issue.input === undefined ? 'required field is missing' : undefined;

/**
 * Validates a payload against its registered schema. Producers call it before publishing and
 * consumers after receiving, so neither side trusts the other.
 * @returns the parsed payload.
 * @throws ContractViolation naming the message, its version and every offending field path.
 */
export function validateMessage<T extends MessageType>(
  type: T,
  schemaVersion: number,
  payload: unknown,
): PayloadOf<T>;
export function validateMessage(type: string, schemaVersion: number, payload: unknown): unknown;
export function validateMessage(type: string, schemaVersion: number, payload: unknown): unknown {
  const spec = messageSpec(type, schemaVersion);
  const result = spec.schema.safeParse(payload, { error: missingFieldFirst });
  if (!result.success) throw new ContractViolation(`${type} v${schemaVersion}`, issuesFromZod(result.error));
  return result.data;
}
