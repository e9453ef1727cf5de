import { createKafka } from '@order-saga/outbox';
import {
  creditViolations,
  effectViolations,
  effectsOf,
  type FinishedOrder,
  type PublishedEvent,
} from '../saga/effects.js';
import { services, type OrderView } from '../saga/system.js';
import type { DrillSystem } from './drill.js';

/** One invariant's verdict, with what was seen when it failed. */
export interface Verdict {
  name: string;
  pass: boolean;
  detail: string;
}

/**
 * What the system holds before the load: stock per sku (on hand + reserved + shipped), credit
 * each customer has used, dead-lettered inbox rows per consumer. Zero credit and dead letters on a
 * drill's own system; an attached system brings its history, which is not the drill's.
 */
export interface Baseline {
  stock: Map<string, number>;
  usedCredit: Map<string, number>;
  deadLettered: Map<string, number>;
}

export async function takeBaseline(system: DrillSystem): Promise<Baseline> {
  const stock = await system.query<{ sku: string; total: number }>(
    'inventory',
    'SELECT sku, on_hand + reserved + shipped AS total FROM product',
  );
  const credit = await system.query<{ id: string; used: number }>(
    'payment',
    'SELECT id, credit_limit - available_credit AS used FROM customer',
  );
  return {
    stock: new Map(stock.map((r) => [r.sku, Number(r.total)])),
    usedCredit: new Map(credit.map((r) => [r.id, Number(r.used)])),
    deadLettered: await deadLettered(system),
  };
}

/** Inbox rows with outcome `dead-lettered`, per `service/consumer`. */
async function deadLettered(system: DrillSystem): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const service of services) {
    const rows = await system.query<{ consumer: string; n: string }>(
      service,
      "SELECT consumer, count(*) AS n FROM inbox WHERE outcome = 'dead-lettered' GROUP BY consumer",
    );
    for (const r of rows) counts.set(`${service}/${r.consumer}`, Number(r.n));
  }
  return counts;
}

async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 500));
    value = await read();
  }
  return value;
}

/**
 * Messages each consumer group of the system has not committed yet, per `group topic/partition`,
 * read from the broker (what the order service's `consumer_lag_messages` reports). The groups are
 * named after the consumers found in the services' inboxes.
 */
export async function consumerLag(system: DrillSystem): Promise<Map<string, number>> {
  const kafka = createKafka({ clientId: `${system.name}-lag`, brokers: system.kafkaBrokers });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const lag = new Map<string, number>();
    for (const service of services) {
      const consumers = await system.query<{ consumer: string; topic: string }>(
        service,
        'SELECT DISTINCT consumer, topic FROM inbox',
      );
      for (const { consumer, topic } of consumers) {
        const groupId = `${system.prefix}${consumer}`;
        const ends = await admin.fetchTopicOffsets(topic);
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        for (const end of ends) {
          const at = Number(committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
          const behind = Number(end.high) - Math.max(at, 0);
          if (behind > 0) lag.set(`${groupId} ${topic}/${end.partition}`, behind);
        }
      }
    }
    return lag;
  } finally {
    await admin.disconnect();
  }
}

/** Every check the issue asks for after a drill, given the finished orders. */
export async function checkInvariants(
  system: DrillSystem,
  orders: readonly OrderView[],
  customerOf: ReadonlyMap<string, string>,
  baseline: Baseline,
  options: {
    accepted: number;
    drainBoundMs: number;
    drainedInMs: number | null;
    deadLettersExpected: boolean;
  },
): Promise<{
  verdicts: Verdict[];
  duplicateEvents: number;
  duplicateEffects: number;
  events: PublishedEvent[];
}> {
  const verdicts: Verdict[] = [];
  const verdict = (name: string, problems: string[]) =>
    verdicts.push({ name, pass: problems.length === 0, detail: problems.slice(0, 5).join('; ') });

  const stuck = orders.filter((o) => !['CONFIRMED', 'REJECTED', 'CANCELLED'].includes(o.status));
  verdict(`every order terminal within ${Math.round(options.drainBoundMs / 1000)} s`, [
    ...(orders.length === options.accepted ? [] : [`${options.accepted - orders.length} orders unreadable`]),
    ...(options.drainedInMs === null ? ['the drain bound passed'] : []),
    ...stuck.map((o) => `${o.orderId} is ${o.status}`),
  ]);

  const finished: FinishedOrder[] = orders.map((o) => ({
    orderId: o.orderId,
    status: o.status,
    total: o.total,
    customerId: customerOf.get(o.orderId)!,
  }));
  const poisoned = options.deadLettersExpected;
  const events = [
    ...(await system.events('payment', 30_000, poisoned)),
    ...(await system.events('shipping', 30_000, poisoned)),
  ];
  const effects = effectsOf(events);
  const problems = effectViolations(effects, finished);
  const duplicateEffects = problems.filter((p) =>
    / (charged|refunded) \d+ times| got \d+ shipments/.test(p),
  ).length;
  verdict(
    'at most one capture, refund and shipment per order (counted from effects)',
    problems.filter((p) => / \d+ times| got \d+ shipments/.test(p)),
  );
  verdict(
    'money captured − refunded = totals of confirmed orders',
    problems.filter((p) => !/ \d+ times| got \d+ shipments/.test(p)),
  );

  const customers = await system.query<{ id: string; creditLimit: number; availableCredit: number }>(
    'payment',
    'SELECT id, credit_limit AS "creditLimit", available_credit AS "availableCredit" FROM customer',
  );
  verdict(
    'each customer credit = limit − net charges',
    creditViolations(
      effects,
      finished,
      // Credit used before the load is not the drill's orders' (zero on a system of its own).
      customers.map((c) => ({
        ...c,
        availableCredit: c.availableCredit + (baseline.usedCredit.get(c.id) ?? 0),
      })),
    ),
  );

  // Inventory finishes a confirmed order's reservation on OrderConfirmed, asynchronously.
  const stock = await poll(
    () =>
      system.query<{ sku: string; on_hand: number; reserved: number; shipped: number }>(
        'inventory',
        'SELECT sku, on_hand, reserved, shipped FROM product',
      ),
    (rows) => rows.every((r) => Number(r.reserved) === 0),
    30_000,
  );
  verdict(
    'stock on hand + reserved + shipped = initial, never negative, nothing left reserved',
    stock.flatMap((r) => {
      const total = Number(r.on_hand) + Number(r.reserved) + Number(r.shipped);
      return [
        ...(total === baseline.stock.get(r.sku)
          ? []
          : [`${r.sku}: ${total}, initially ${baseline.stock.get(r.sku)}`]),
        ...([r.on_hand, r.reserved, r.shipped].some((n) => Number(n) < 0) ? [`${r.sku} went negative`] : []),
        ...(Number(r.reserved) === 0 ? [] : [`${r.sku}: ${r.reserved} still reserved`]),
      ];
    }),
  );

  const deadLetters = [...(await deadLettered(system))]
    .map(([consumer, n]) => [consumer, n - (baseline.deadLettered.get(consumer) ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .map(([consumer, n]) => `${consumer}: ${n} dead-lettered, not replayed`);
  verdict(
    options.deadLettersExpected
      ? 'no valid message dead-lettered (the poison is on the .dlt topics, checked by the drill)'
      : 'nothing dead-lettered',
    deadLetters,
  );

  const lag = await poll(
    () => consumerLag(system),
    (l) => l.size === 0,
    30_000,
  );
  verdict(
    'consumer lag back to 0',
    [...lag].map(([key, n]) => `${key}: ${n}`),
  );

  const ids = events.map((e) => e.messageId);
  return { verdicts, duplicateEvents: ids.length - new Set(ids).size, duplicateEffects, events };
}
