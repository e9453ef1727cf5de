import { topicsFor } from '@order-saga/contracts';
import pg from 'pg';
import { scratchAdminUrl } from '../debezium/cdc.js';
import { services, type SagaSystem, type Service } from '../saga/system.js';
import { orderCycle, type OrderKind } from './order-mix.js';

/** How long the services keep the rows that expire (their config, as they run in the benchmark). */
export interface Retention {
  inboxHours: number;
  outboxHours: number;
  idempotencyKeyHours: number;
}

/** What {@link loadHistory} wrote. */
export interface HistoryLoad {
  orders: number;
  /** Rows inserted per `service.table`. */
  rows: Record<string, number>;
  /** Oldest and newest order, ISO timestamps. */
  from: string;
  to: string;
  loadSeconds: number;
  vacuumSeconds: number;
}

// Orders spread over four weeks, the newest a few minutes before the run. Every expiring row
// (inbox, published outbox, idempotency key) is kept younger than its retention minus this margin,
// so no purge deletes history while the benchmark measures.
const HISTORY_DAYS = 28;
const NEWEST_AGO_MS = 10 * 60_000;
const RETENTION_MARGIN_HOURS = 2;
/** Time between two consecutive transactions of one saga, as a lightly loaded system takes. */
const STEP_MS = 40;
/** The relay marks a row sent this long after its commit. */
const PUBLISH_MS = 25;
/** The services create their topics with 3 partitions, keyed by order id. */
const PARTITIONS = 3;
const HISTORY_SKUS = 50;

type Topic = 'order.events' | `${'inventory' | 'payment' | 'shipping'}.${'commands' | 'events'}`;

/** One message of a historical saga: who wrote it to its outbox, and who recorded it in its inbox. */
interface MessageSpec {
  type: string;
  kinds: OrderKind[];
  from: Service;
  aggregate: string;
  topic: Topic;
  /** Transactions after the POST (0) that wrote it. */
  step: number;
  /** The consumer that handled it (one step later); the order's other events are ignored by all. */
  handledBy?: Service;
  /** The message whose handling wrote it, by type. */
  causedBy?: string;
  /** SQL over the `history` row `h`. */
  payload: string;
}

const forward: OrderKind[] = ['happy', 'over-credit', 'unserved-country'];
const order = `'orderId', h.order_id`;

/**
 * The messages of each kind of saga, as the services write them (compare a live run's outbox):
 * a happy saga ends with OrderConfirmed, which inventory handles to commit the stock; a declined
 * payment releases the stock; a refused shipment refunds the payment and releases the stock.
 */
const messages: MessageSpec[] = [
  {
    type: 'OrderPlaced',
    kinds: [...forward, 'out-of-stock'],
    from: 'order',
    aggregate: 'Order',
    topic: 'order.events',
    step: 0,
    payload: `jsonb_build_object(${order}, 'customerId', h.customer_id, 'total', h.total, 'items', h.items, 'shippingAddress', h.address)`,
  },
  {
    type: 'ReserveStock',
    kinds: [...forward, 'out-of-stock'],
    from: 'order',
    aggregate: 'StockReservation',
    topic: 'inventory.commands',
    step: 0,
    handledBy: 'inventory',
    payload: `jsonb_build_object(${order}, 'items', h.items)`,
  },
  {
    type: 'StockReserved',
    kinds: forward,
    from: 'inventory',
    aggregate: 'StockReservation',
    topic: 'inventory.events',
    step: 1,
    handledBy: 'order',
    causedBy: 'ReserveStock',
    payload: `jsonb_build_object(${order}, 'items', h.items)`,
  },
  {
    type: 'StockUnavailable',
    kinds: ['out-of-stock'],
    from: 'inventory',
    aggregate: 'StockReservation',
    topic: 'inventory.events',
    step: 1,
    handledBy: 'order',
    causedBy: 'ReserveStock',
    payload: `jsonb_build_object(${order}, 'reason', 'out_of_stock', 'sku', h.sku)`,
  },
  {
    type: 'OrderRejected',
    kinds: ['out-of-stock'],
    from: 'order',
    aggregate: 'Order',
    topic: 'order.events',
    step: 2,
    causedBy: 'StockUnavailable',
    payload: `jsonb_build_object(${order}, 'reason', h.reason)`,
  },
  {
    type: 'ChargePayment',
    kinds: forward,
    from: 'order',
    aggregate: 'Payment',
    topic: 'payment.commands',
    step: 2,
    handledBy: 'payment',
    causedBy: 'StockReserved',
    payload: `jsonb_build_object(${order}, 'customerId', h.customer_id, 'amount', h.total)`,
  },
  {
    type: 'PaymentCharged',
    kinds: ['happy', 'unserved-country'],
    from: 'payment',
    aggregate: 'Payment',
    topic: 'payment.events',
    step: 3,
    handledBy: 'order',
    causedBy: 'ChargePayment',
    payload: `jsonb_build_object(${order}, 'paymentId', h.payment_id, 'amount', h.total)`,
  },
  {
    type: 'PaymentDeclined',
    kinds: ['over-credit'],
    from: 'payment',
    aggregate: 'Payment',
    topic: 'payment.events',
    step: 3,
    handledBy: 'order',
    causedBy: 'ChargePayment',
    payload: `jsonb_build_object(${order}, 'reason', h.reason)`,
  },
  {
    type: 'ReleaseStock',
    kinds: ['over-credit'],
    from: 'order',
    aggregate: 'StockReservation',
    topic: 'inventory.commands',
    step: 4,
    handledBy: 'inventory',
    causedBy: 'PaymentDeclined',
    payload: `jsonb_build_object(${order}, 'reason', h.reason)`,
  },
  {
    type: 'StockReleased',
    kinds: ['over-credit'],
    from: 'inventory',
    aggregate: 'StockReservation',
    topic: 'inventory.events',
    step: 5,
    handledBy: 'order',
    causedBy: 'ReleaseStock',
    payload: `jsonb_build_object(${order})`,
  },
  {
    type: 'OrderCancelled',
    kinds: ['over-credit'],
    from: 'order',
    aggregate: 'Order',
    topic: 'order.events',
    step: 6,
    causedBy: 'StockReleased',
    payload: `jsonb_build_object(${order}, 'reason', h.reason)`,
  },
  {
    type: 'CreateShipment',
    kinds: ['happy', 'unserved-country'],
    from: 'order',
    aggregate: 'Shipment',
    topic: 'shipping.commands',
    step: 4,
    handledBy: 'shipping',
    causedBy: 'PaymentCharged',
    payload: `jsonb_build_object(${order}, 'address', h.address, 'items', h.items)`,
  },
  {
    type: 'ShipmentCreated',
    kinds: ['happy'],
    from: 'shipping',
    aggregate: 'Shipment',
    topic: 'shipping.events',
    step: 5,
    handledBy: 'order',
    causedBy: 'CreateShipment',
    payload: `jsonb_build_object(${order}, 'shipmentId', h.shipment_id)`,
  },
  {
    type: 'OrderConfirmed',
    kinds: ['happy'],
    from: 'order',
    aggregate: 'Order',
    topic: 'order.events',
    step: 6,
    handledBy: 'inventory',
    causedBy: 'ShipmentCreated',
    payload: `jsonb_build_object(${order})`,
  },
  {
    type: 'ShipmentRefused',
    kinds: ['unserved-country'],
    from: 'shipping',
    aggregate: 'Shipment',
    topic: 'shipping.events',
    step: 5,
    handledBy: 'order',
    causedBy: 'CreateShipment',
    payload: `jsonb_build_object(${order}, 'reason', h.reason)`,
  },
  {
    type: 'RefundPayment',
    kinds: ['unserved-country'],
    from: 'order',
    aggregate: 'Payment',
    topic: 'payment.commands',
    step: 6,
    handledBy: 'payment',
    causedBy: 'ShipmentRefused',
    payload: `jsonb_build_object(${order}, 'reason', h.reason)`,
  },
  {
    type: 'ReleaseStock',
    kinds: ['unserved-country'],
    from: 'order',
    aggregate: 'StockReservation',
    topic: 'inventory.commands',
    step: 6,
    handledBy: 'inventory',
    causedBy: 'ShipmentRefused',
    payload: `jsonb_build_object(${order}, 'reason', h.reason)`,
  },
  {
    type: 'PaymentRefunded',
    kinds: ['unserved-country'],
    from: 'payment',
    aggregate: 'Payment',
    topic: 'payment.events',
    step: 7,
    handledBy: 'order',
    causedBy: 'RefundPayment',
    payload: `jsonb_build_object(${order}, 'paymentId', h.payment_id, 'amount', h.total)`,
  },
  {
    type: 'StockReleased',
    kinds: ['unserved-country'],
    from: 'inventory',
    aggregate: 'StockReservation',
    topic: 'inventory.events',
    step: 7,
    handledBy: 'order',
    causedBy: 'ReleaseStock',
    payload: `jsonb_build_object(${order})`,
  },
  {
    type: 'OrderCancelled',
    kinds: ['unserved-country'],
    from: 'order',
    aggregate: 'Order',
    topic: 'order.events',
    step: 8,
    causedBy: 'PaymentRefunded',
    payload: `jsonb_build_object(${order}, 'reason', h.reason)`,
  },
];

/** The saga's history lines (GET /orders/:id), per kind: [step, name, outcome, detail]. */
const sagaSteps: Record<OrderKind, [number, string, string, string | null][]> = {
  happy: [
    [0, 'reserve-stock', 'requested', null],
    [2, 'reserve-stock', 'reserved', null],
    [2, 'charge-payment', 'requested', null],
    [4, 'charge-payment', 'charged', null],
    [4, 'create-shipment', 'requested', null],
    [6, 'create-shipment', 'created', null],
    [6, 'order', 'confirmed', null],
  ],
  'over-credit': [
    [0, 'reserve-stock', 'requested', null],
    [2, 'reserve-stock', 'reserved', null],
    [2, 'charge-payment', 'requested', null],
    [4, 'charge-payment', 'declined', 'credit_limit_exceeded'],
    [4, 'ReleaseStock', 'requested', null],
    [6, 'ReleaseStock', 'done', null],
    [6, 'order', 'cancelled', 'credit_limit_exceeded'],
  ],
  'unserved-country': [
    [0, 'reserve-stock', 'requested', null],
    [2, 'reserve-stock', 'reserved', null],
    [2, 'charge-payment', 'requested', null],
    [4, 'charge-payment', 'charged', null],
    [4, 'create-shipment', 'requested', null],
    [6, 'create-shipment', 'refused', 'country_not_served'],
    [6, 'RefundPayment', 'requested', null],
    [6, 'ReleaseStock', 'requested', null],
    [8, 'ReleaseStock', 'done', null],
    [8, 'RefundPayment', 'done', null],
    [8, 'order', 'cancelled', 'country_not_served'],
  ],
  'out-of-stock': [
    [0, 'reserve-stock', 'requested', null],
    [2, 'reserve-stock', 'unavailable', 'out_of_stock: h-sold-out'],
    [2, 'order', 'rejected', null],
  ],
};

const lit = (value: string | number | null): string =>
  value === null ? 'NULL' : typeof value === 'number' ? String(value) : `'${value.replaceAll("'", "''")}'`;
const kindsIn = (kinds: readonly OrderKind[]) => `h.kind IN (${kinds.map(lit).join(', ')})`;
const at = (step: number) => `h.t + interval '${step * STEP_MS} milliseconds'`;
/** The id of message `type` of order `h`: a uuid v7 of when it was written, the same in every database. */
const messageId = (type: string, step: number) => `pg_temp.uuid7(${at(step)}, '${type}-' || h.i)`;

function causeOf(spec: MessageSpec): MessageSpec | undefined {
  if (!spec.causedBy) return undefined;
  const cause = messages.find((m) => m.type === spec.causedBy && m.kinds.includes(spec.kinds[0]!));
  if (!cause) throw new Error(`history bug: no ${spec.causedBy} for ${spec.type}`);
  return cause;
}

/**
 * The helpers and the `history` table (one row per order, its facts derived from its number `i`
 * alone, so every database computes the same ids), in the session that loads one database.
 */
function historySql(orders: number, newest: Date): string {
  const spanMs = HISTORY_DAYS * 24 * 3_600_000;
  const gapMs = spanMs / orders;
  const cycle = `(ARRAY[${orderCycle.map(lit).join(', ')}])[i % ${orderCycle.length} + 1]`;
  return `
CREATE FUNCTION pg_temp.uuid7(at timestamptz, seed text) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
  SELECT (lpad(to_hex(floor(extract(epoch FROM at) * 1000)::bigint), 12, '0') || '7' || substr(r, 1, 3)
          || substr('89ab', get_byte(decode(substr(r, 4, 2), 'hex'), 0) % 4 + 1, 1) || substr(r, 6, 15))::uuid
    FROM md5(seed) AS r
$$;
CREATE TEMP TABLE history AS
SELECT i, kind, t, pg_temp.uuid7(t, 'order-' || i) AS order_id, customer_id, sku, quantity, unit_price,
       quantity * unit_price AS total, country, city, line1,
       jsonb_build_array(jsonb_build_object('sku', sku, 'quantity', quantity)) AS items,
       jsonb_build_object('country', country, 'city', city, 'line1', line1) AS address,
       CASE kind WHEN 'over-credit' THEN 'credit_limit_exceeded'
                 WHEN 'unserved-country' THEN 'country_not_served'
                 WHEN 'out-of-stock' THEN 'out_of_stock: ' || sku END AS reason,
       md5('correlation-' || i)::uuid::text AS correlation_id,
       md5('trace-' || i) AS trace_id,
       CASE WHEN kind IN ('happy', 'unserved-country') THEN md5('payment-' || i)::uuid END AS payment_id,
       CASE WHEN kind = 'happy' THEN md5('shipment-' || i)::uuid END AS shipment_id,
       abs(hashtext(i::text)::bigint) % ${PARTITIONS} AS partition
  FROM (
    SELECT i, kind,
           ${lit(newest.toISOString())}::timestamptz - interval '${Math.round(spanMs)} milliseconds'
             + (i - 1) * interval '${gapMs.toFixed(3)} milliseconds' AS t,
           CASE kind WHEN 'over-credit' THEN 'h-low-' || i % 100 ELSE 'h-customer-' || i % 1000 END AS customer_id,
           CASE kind WHEN 'out-of-stock' THEN 'h-sold-out' ELSE 'h-sku-' || i % ${HISTORY_SKUS} END AS sku,
           CASE kind WHEN 'over-credit' THEN 20 WHEN 'out-of-stock' THEN 1 ELSE 1 + i % 3 END AS quantity,
           CASE kind WHEN 'out-of-stock' THEN 10000 ELSE 500 + 100 * (i % ${HISTORY_SKUS}) END AS unit_price,
           CASE kind WHEN 'unserved-country' THEN 'AQ' ELSE 'FR' END AS country,
           CASE kind WHEN 'unserved-country' THEN 'McMurdo' ELSE 'Paris' END AS city,
           CASE kind WHEN 'unserved-country' THEN '1 Ice Street' ELSE (i % 200 + 1) || ' rue de Rivoli' END AS line1
      FROM (SELECT i, ${cycle} AS kind FROM generate_series(1, ${orders}) AS i) n
  ) o;
`;
}

/** Published outbox rows younger than `cutoff` (older ones the relay has purged), written by `service`. */
function outboxSql(service: Service, prefix: string, cutoff: Date): string {
  const topics = topicsFor(prefix);
  const selects = messages
    .filter((m) => m.from === service)
    .map((m) => {
      const cause = causeOf(m);
      const [svc, kind] = m.topic.split('.') as [keyof typeof topics, 'events' | 'commands'];
      const topic = (topics[svc] as Record<string, string>)[kind]!;
      return `SELECT ${messageId(m.type, m.step)}, ${lit(m.aggregate)}, h.order_id::text, ${lit(m.type)},
                     ${m.payload}, ${lit(topic)}, 1, h.correlation_id,
                     ${cause ? `${messageId(cause.type, cause.step)}::text` : 'NULL'},
                     '00-' || h.trace_id || '-' || substr(md5('${m.type}-' || h.i), 1, 16) || '-01',
                     ${at(m.step)}, ${at(m.step)} + interval '${PUBLISH_MS} milliseconds', h.i, ${m.step}
                FROM history h WHERE ${kindsIn(m.kinds)} AND ${at(m.step)} > ${lit(cutoff.toISOString())}`;
    });
  return `INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, topic, schema_version, correlation_id,
                               causation_id, traceparent, occurred_at, published_at)
          SELECT id, aggregatetype, aggregateid, type, payload, topic, schema_version, correlation_id,
                 causation_id, traceparent, occurred_at, published_at
            FROM (${selects.join('\n UNION ALL ')})
              AS m(id, aggregatetype, aggregateid, type, payload, topic, schema_version, correlation_id,
                   causation_id, traceparent, occurred_at, published_at, i, step)
           ORDER BY i, step`;
}

/** An inbox row for every message `service` handled, one step after it was written. */
function inboxSql(service: Service, prefix: string): string {
  const topics = topicsFor(prefix);
  const selects = messages
    .filter((m) => m.handledBy === service)
    .map((m) => {
      const [svc, kind] = m.topic.split('.') as [keyof typeof topics, 'events' | 'commands'];
      const topic = (topics[svc] as Record<string, string>)[kind]!;
      // Offsets grow with the order number within a partition, as the log's do.
      return `SELECT ${messageId(m.type, m.step)}, ${lit(topic)}, h.partition, h.i * 4 + ${m.step % 4},
                     ${at(m.step + 1)}, h.i, ${m.step}
                FROM history h WHERE ${kindsIn(m.kinds)}`;
    });
  return `INSERT INTO inbox (consumer, message_id, topic, partition, "offset", processed_at, outcome)
          SELECT ${lit(service)}, message_id, topic, partition, "offset", processed_at, 'applied'
            FROM (${selects.join('\n UNION ALL ')}) AS m(message_id, topic, partition, "offset", processed_at, i, step)
           ORDER BY i, step`;
}

/** The business rows of each service, table by table, as its handlers leave them once the saga ended. */
function businessSql(service: Service, keyCutoff: Date): Record<string, string> {
  const terminalStep = `CASE h.kind WHEN 'happy' THEN 6 WHEN 'over-credit' THEN 6 WHEN 'unserved-country' THEN 8 ELSE 2 END`;
  const terminalAt = `h.t + (${terminalStep}) * interval '${STEP_MS} milliseconds'`;
  switch (service) {
    case 'order': {
      const steps = Object.entries(sagaSteps).flatMap(([kind, rows]) =>
        rows.map(
          ([step, name, outcome, detail], n) =>
            `(${lit(kind)}, ${n}, ${step}, ${lit(name)}, ${lit(outcome)}, ${lit(detail)})`,
        ),
      );
      return {
        product: `INSERT INTO product (sku, name, price)
                  SELECT 'h-sku-' || k, 'History item ' || k, 500 + 100 * k FROM generate_series(0, ${HISTORY_SKUS - 1}) AS k
                  UNION ALL SELECT 'h-sold-out', 'Sold out long ago', 10000
                  ON CONFLICT (sku) DO NOTHING`,
        order: `INSERT INTO "order" (id, customer_id, status, reason, total, country, city, line1, correlation_id, created_at, updated_at)
                SELECT h.order_id, h.customer_id,
                       CASE h.kind WHEN 'happy' THEN 'CONFIRMED' WHEN 'out-of-stock' THEN 'REJECTED' ELSE 'CANCELLED' END,
                       h.reason, h.total, h.country, h.city, h.line1, h.correlation_id, h.t, ${terminalAt}
                  FROM history h ORDER BY h.i`,
        order_item: `INSERT INTO order_item (order_id, sku, quantity, unit_price)
                     SELECT h.order_id, h.sku, h.quantity, h.unit_price FROM history h ORDER BY h.i`,
        saga: `INSERT INTO saga (order_id, status, attempt, deadline_at, pending, compensated, reason, data, traceparent, version, updated_at)
               SELECT h.order_id,
                      CASE h.kind WHEN 'happy' THEN 'CONFIRMED' WHEN 'out-of-stock' THEN 'REJECTED' ELSE 'CANCELLED' END,
                      1, NULL, '{}',
                      CASE h.kind WHEN 'over-credit' THEN '{stock}'::text[] WHEN 'unserved-country' THEN '{stock,payment}'::text[] ELSE '{}' END,
                      h.reason,
                      jsonb_build_object('customerId', h.customer_id, 'total', h.total, 'items', h.items, 'address', h.address),
                      '00-' || h.trace_id || '-' || substr(md5('post-' || h.i), 1, 16) || '-01',
                      CASE h.kind WHEN 'unserved-country' THEN 5 WHEN 'out-of-stock' THEN 1 ELSE 3 END,
                      ${terminalAt}
                 FROM history h ORDER BY h.i`,
        saga_step: `INSERT INTO saga_step (order_id, name, outcome, detail, "at")
                    SELECT h.order_id, s.name, s.outcome, s.detail, ${at(0)} + s.step * interval '${STEP_MS} milliseconds'
                      FROM history h JOIN (VALUES ${steps.join(', ')}) AS s(kind, n, step, name, outcome, detail) ON s.kind = h.kind
                     ORDER BY h.i, s.n`,
        idempotency_key: `INSERT INTO idempotency_key (key, request_hash, order_id, response, created_at)
                          SELECT md5('key-' || h.i)::uuid::text, encode(sha256(convert_to('request-' || h.i, 'UTF8')), 'hex'), h.order_id,
                                 jsonb_build_object('status', 'PENDING', 'orderId', h.order_id, 'statusUrl', '/orders/' || h.order_id),
                                 h.t
                            FROM history h WHERE h.t > ${lit(keyCutoff.toISOString())} ORDER BY h.i`,
      };
    }
    case 'inventory':
      return {
        product: `INSERT INTO product (sku, name, price, on_hand, reserved, shipped)
                  SELECT 'h-sku-' || k, 'History item ' || k, 500 + 100 * k, 1000000, 0,
                         (SELECT coalesce(sum(h.quantity), 0) FROM history h WHERE h.kind = 'happy' AND h.sku = 'h-sku-' || k)
                    FROM generate_series(0, ${HISTORY_SKUS - 1}) AS k
                  UNION ALL SELECT 'h-sold-out', 'Sold out long ago', 10000, 0, 0, 0
                  ON CONFLICT (sku) DO NOTHING`,
        reservation: `INSERT INTO reservation (order_id, status, items, reason, sku, created_at, updated_at)
                      SELECT h.order_id,
                             (CASE h.kind WHEN 'happy' THEN 'COMMITTED' WHEN 'out-of-stock' THEN 'REJECTED' ELSE 'RELEASED' END)::"ReservationStatus",
                             h.items,
                             CASE h.kind WHEN 'out-of-stock' THEN 'out_of_stock' END,
                             CASE h.kind WHEN 'out-of-stock' THEN h.sku END,
                             ${at(1)},
                             h.t + (CASE h.kind WHEN 'happy' THEN 7 WHEN 'over-credit' THEN 5 WHEN 'unserved-country' THEN 7 ELSE 1 END)
                                   * interval '${STEP_MS} milliseconds'
                        FROM history h ORDER BY h.i`,
      };
    case 'payment':
      return {
        customer: `INSERT INTO customer (id, name, credit_limit, available_credit)
                   SELECT 'h-customer-' || k, 'Customer ' || k, 100000000,
                          100000000 - (SELECT coalesce(sum(h.total), 0) FROM history h
                                        WHERE h.kind = 'happy' AND h.customer_id = 'h-customer-' || k)
                     FROM generate_series(0, 999) AS k
                   UNION ALL
                   SELECT 'h-low-' || k, 'Low-limit customer ' || k, 5000, 5000 FROM generate_series(0, 99) AS k
                   ON CONFLICT (id) DO NOTHING`,
        payment: `INSERT INTO payment (order_id, payment_id, customer_id, amount, status, reason, charged_at, refunded_at, created_at)
                  SELECT h.order_id, h.payment_id, h.customer_id, h.total,
                         (CASE h.kind WHEN 'happy' THEN 'CHARGED' WHEN 'over-credit' THEN 'DECLINED' ELSE 'REFUNDED' END)::payment_status,
                         CASE WHEN h.kind <> 'happy' THEN h.reason END,
                         CASE WHEN h.kind <> 'over-credit' THEN ${at(3)} END,
                         CASE WHEN h.kind = 'unserved-country' THEN ${at(7)} END,
                         ${at(3)}
                    FROM history h WHERE ${kindsIn(forward)} ORDER BY h.i`,
      };
    case 'shipping':
      return {
        shipment: `INSERT INTO shipment (order_id, shipment_id, status, country, city, line1, items, reason, created_at, updated_at)
                   SELECT h.order_id, h.shipment_id,
                          (CASE h.kind WHEN 'happy' THEN 'CREATED' ELSE 'REFUSED' END)::shipment_status,
                          h.country, h.city, h.line1, h.items,
                          CASE WHEN h.kind <> 'happy' THEN h.reason END,
                          ${at(5)}, ${at(5)}
                     FROM history h WHERE ${kindsIn(['happy', 'unserved-country'])} ORDER BY h.i`,
      };
  }
}

/**
 * The administrator, on one service's database: the load needs a temporary table, which the
 * services' roles may not create, and VACUUM, which only a table's owner may run.
 */
async function adminClient(system: SagaSystem, service: Service): Promise<pg.Client> {
  const url = new URL(scratchAdminUrl());
  url.pathname = `/${system.databases.get(service)!.name}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  return client;
}

async function loadOne(
  system: SagaSystem,
  service: Service,
  orders: number,
  newest: Date,
  retention: Retention,
  rows: Record<string, number>,
): Promise<void> {
  const hoursAgo = (hours: number) =>
    new Date(newest.getTime() + NEWEST_AGO_MS - (hours - RETENTION_MARGIN_HOURS) * 3_600_000);
  const client = await adminClient(system, service);
  try {
    // A bulk load: losing it in a crash costs nothing, waiting for each commit's flush does.
    await client.query('SET synchronous_commit = off');
    await client.query(historySql(orders, newest));
    const statements = {
      ...businessSql(service, hoursAgo(retention.idempotencyKeyHours)),
      ...(messages.some((m) => m.handledBy === service) ? { inbox: inboxSql(service, system.prefix) } : {}),
      outbox: outboxSql(service, system.prefix, hoursAgo(retention.outboxHours)),
    };
    for (const [table, sql] of Object.entries(statements)) {
      rows[`${service}.${table}`] = (await client.query(sql)).rowCount ?? 0;
    }
  } finally {
    await client.end();
  }
}

/**
 * Loads `orders` finished sagas into the services' databases, as the services would have written
 * them over the past weeks: orders with their lines, terminal sagas and their steps, idempotency
 * keys, reservations, payments (refunds), shipments, an inbox row for every message a service
 * handled and the published outbox rows the relays have not purged yet. The statuses follow the
 * benchmark's mix; customers and SKUs are the history's own, so the live orders' stock and
 * credit are untouched. Set-based SQL, the four databases side by side, then VACUUM ANALYZE
 * (a system that wrote these rows over weeks has had them vacuumed and analyzed).
 */
export async function loadHistory(
  system: SagaSystem,
  orders: number,
  retention: Retention,
): Promise<HistoryLoad> {
  if (HISTORY_DAYS * 24 > retention.inboxHours - RETENTION_MARGIN_HOURS)
    throw new Error(
      `INBOX_RETENTION_HOURS ${retention.inboxHours} is shorter than the ${HISTORY_DAYS}-day history`,
    );
  const newest = new Date(Date.now() - NEWEST_AGO_MS);
  const rows: Record<string, number> = {};
  const started = performance.now();
  await Promise.all(services.map((service) => loadOne(system, service, orders, newest, retention, rows)));
  const loaded = performance.now();
  await Promise.all(
    services.map(async (service) => {
      const tables = [...new Set(Object.keys(rows).filter((k) => k.startsWith(`${service}.`)))].map(
        (k) => `"${k.slice(service.length + 1)}"`,
      );
      const client = await adminClient(system, service);
      await client.query(`VACUUM (ANALYZE) ${tables.join(', ')}`).finally(() => client.end());
    }),
  );
  return {
    orders,
    rows: Object.fromEntries(Object.entries(rows).sort()),
    from: new Date(newest.getTime() - HISTORY_DAYS * 24 * 3_600_000).toISOString(),
    to: newest.toISOString(),
    loadSeconds: (loaded - started) / 1000,
    vacuumSeconds: (performance.now() - loaded) / 1000,
  };
}
