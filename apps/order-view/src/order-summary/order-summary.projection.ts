import type { Address, OrderLine, TopicKey } from '@order-saga/contracts';
import { projection, type ProjectedMessage } from '@order-saga/projections';

/** Terminal outcomes, named as the order service names its statuses. */
const outcomes = {
  OrderConfirmed: 'CONFIRMED',
  OrderRejected: 'REJECTED',
  OrderCancelled: 'CANCELLED',
  OrderCompensationFailed: 'COMPENSATION_FAILED',
} as const;

export type OrderStatus = 'PENDING' | (typeof outcomes)[keyof typeof outcomes];

/** Messages that undo a step: compensating commands and the events acknowledging them. */
const compensations = new Set([
  'ReleaseStock',
  'RefundPayment',
  'CancelShipment',
  'StockReleased',
  'PaymentRefunded',
  'ShipmentCancelled',
]);

/** One command or event of an order, wherever it was published. */
export interface TimelineEntry {
  /** The service that published it: commands are the order service's, events their participant's. */
  service: 'order' | 'inventory' | 'payment' | 'shipping';
  type: string;
  topic: TopicKey;
  partition: number;
  offset: string;
  occurredAt: string;
  traceId: string | null;
  compensation: boolean;
  messageId: string;
  causationId: string | null;
}

/** The terminal event an order's status comes from. */
interface Outcome {
  type: keyof typeof outcomes;
  reason: string | null;
  at: string;
  messageId: string;
}

/** What the read side knows about one order, from every service's messages. */
export interface OrderSummary {
  orderId: string;
  /** null until the `OrderPlaced` arrives (another service's message may come first). */
  status: OrderStatus | null;
  reason: string | null;
  customerId: string | null;
  items: OrderLine[] | null;
  total: number | null;
  shippingAddress: Address | null;
  placedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  outcome: Outcome | null;
  timeline: TimelineEntry[];
}

export const orderSummaryReads = [
  'OrderPlaced',
  'OrderConfirmed',
  'OrderRejected',
  'OrderCancelled',
  'OrderCompensationFailed',
  'ReserveStock',
  'ReleaseStock',
  'StockReserved',
  'StockUnavailable',
  'StockReleased',
  'ChargePayment',
  'RefundPayment',
  'PaymentCharged',
  'PaymentDeclined',
  'PaymentRefunded',
  'CreateShipment',
  'CancelShipment',
  'ShipmentCreated',
  'ShipmentRefused',
  'ShipmentCancelled',
] as const;

type Read = (typeof orderSummaryReads)[number];

const empty = (orderId: string): OrderSummary => ({
  orderId,
  status: null,
  reason: null,
  customerId: null,
  items: null,
  total: null,
  shippingAddress: null,
  placedAt: null,
  finishedAt: null,
  durationMs: null,
  outcome: null,
  timeline: [],
});

/**
 * Folds one message into an order's summary. The result depends only on the SET of messages seen,
 * never on their arrival order, because messages of one order travel on eight topics and arrive in
 * any relative order:
 * - each summary field is set by the one message type that owns it (`OrderPlaced` owns the order's
 *   facts, a terminal event owns the outcome); of two terminal events, the later one wins;
 * - the timeline is a set (by message id) kept sorted in causal order, whatever order it was built in.
 */
export function evolveOrderSummary(view: OrderSummary | null, message: ProjectedMessage<Read>): OrderSummary {
  const { envelope } = message;
  const current = view ?? empty(envelope.aggregateId);
  const entry = timelineEntry(message);
  const existing = current.timeline.find((e) => e.messageId === entry.messageId);
  // The same message twice (a relay re-publishing after a crash): keep the earliest copy.
  if (existing && comparePosition(existing, entry) <= 0) return current;
  const timeline = causalOrder([...current.timeline.filter((e) => e.messageId !== entry.messageId), entry]);
  const next: OrderSummary = { ...current, timeline };

  if (envelope.type === 'OrderPlaced') {
    const placed = envelope.payload;
    next.customerId = placed.customerId;
    next.items = placed.items;
    next.total = placed.total;
    next.shippingAddress = placed.shippingAddress;
    next.placedAt = envelope.occurredAt;
  }
  if (envelope.type in outcomes) {
    const type = envelope.type as keyof typeof outcomes;
    const payload = envelope.payload as { reason?: string };
    const candidate: Outcome = { type, reason: payload.reason ?? null, at: envelope.occurredAt, messageId: envelope.messageId };
    if (!next.outcome || compareOutcome(candidate, next.outcome) > 0) next.outcome = candidate;
  }
  next.status = next.outcome ? outcomes[next.outcome.type] : next.placedAt ? 'PENDING' : null;
  next.reason = next.outcome?.reason ?? null;
  next.finishedAt = next.outcome?.at ?? null;
  next.durationMs =
    next.placedAt && next.finishedAt ? Date.parse(next.finishedAt) - Date.parse(next.placedAt) : null;
  return next;
}

function timelineEntry(message: ProjectedMessage<Read>): TimelineEntry {
  const { envelope, topicKey } = message;
  const [owner, kind] = topicKey.split('.') as [string, string];
  return {
    service: (kind === 'commands' ? 'order' : owner) as TimelineEntry['service'],
    type: envelope.type,
    topic: topicKey,
    partition: message.partition,
    offset: message.offset,
    occurredAt: envelope.occurredAt,
    traceId: envelope.traceparent?.split('-')[1] ?? null,
    compensation: compensations.has(envelope.type),
    messageId: envelope.messageId,
    causationId: envelope.causationId,
  };
}

function comparePosition(a: TimelineEntry, b: TimelineEntry): number {
  return (
    a.topic.localeCompare(b.topic) || a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset))
  );
}

function compareOutcome(a: Outcome, b: Outcome): number {
  return Date.parse(a.at) - Date.parse(b.at) || a.messageId.localeCompare(b.messageId);
}

/**
 * Sorts entries so that a message always follows the message that caused it, and otherwise by time.
 * Services' clocks differ: a reply may carry an earlier `occurredAt` than its command, so each entry
 * is placed at the latest time along its causation chain, and after its cause on a tie.
 */
export function causalOrder(entries: readonly TimelineEntry[]): TimelineEntry[] {
  const byId = new Map(entries.map((e) => [e.messageId, e]));
  const memo = new Map<string, { at: number; depth: number }>();
  const rank = (entry: TimelineEntry, seen: Set<string>): { at: number; depth: number } => {
    const known = memo.get(entry.messageId);
    if (known) return known;
    const own = Date.parse(entry.occurredAt);
    const cause = entry.causationId ? byId.get(entry.causationId) : undefined;
    let result = { at: own, depth: 0 };
    if (cause && !seen.has(cause.messageId)) {
      const parent = rank(cause, new Set(seen).add(entry.messageId));
      result = { at: Math.max(own, parent.at), depth: parent.depth + 1 };
    }
    memo.set(entry.messageId, result);
    return result;
  };
  return entries
    .map((entry) => ({ entry, rank: rank(entry, new Set([entry.messageId])) }))
    .sort(
      (a, b) =>
        a.rank.at - b.rank.at ||
        a.rank.depth - b.rank.depth ||
        Date.parse(a.entry.occurredAt) - Date.parse(b.entry.occurredAt) ||
        a.entry.messageId.localeCompare(b.entry.messageId),
    )
    .map(({ entry }) => entry);
}

/**
 * The order summary projection: one view per order id, from the commands and events of every
 * service. Columns exist for what the list and stats queries filter and sort by.
 */
export const orderSummary = projection<OrderSummary, Read>({
  name: 'order-summary',
  reads: orderSummaryReads,
  key: (m) => m.envelope.aggregateId,
  evolve: evolveOrderSummary,
  columns: {
    status: { type: 'text', value: (v) => v.status },
    customer_id: { type: 'text', value: (v) => v.customerId },
    placed_at: { type: 'timestamptz', value: (v) => v.placedAt },
    finished_at: { type: 'timestamptz', value: (v) => v.finishedAt },
    duration_ms: { type: 'bigint', value: (v) => v.durationMs },
    skus: { type: 'text[]', value: (v) => v.items?.map((i) => i.sku) ?? [] },
    compensations: { type: 'integer', value: (v) => v.timeline.filter((e) => e.compensation).length },
  },
  // Every list query is "newest first, after a cursor" on (placed_at, key), optionally filtered by
  // one equality: one composite index per filter serves the filter, the order and the cursor with
  // one index range scan and no sort, however many orders there are. sku filters an array: a GIN
  // index finds the orders holding it (then sorted). finished_at serves the stats window.
  indexes: [
    { on: ['placed_at DESC', 'key DESC'] },
    { on: ['customer_id', 'placed_at DESC', 'key DESC'] },
    { on: ['status', 'placed_at DESC', 'key DESC'] },
    { on: ['skus'], using: 'gin' },
    { on: ['finished_at'] },
  ],
});
