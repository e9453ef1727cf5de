import type pg from 'pg';

/**
 * The order saga's steps as the peer engines run them: each one database transaction on the
 * services' tables (see peer-database.ts), written with node-postgres and nothing else, so each
 * engine wraps the same work in its own durable step. A step may run again after a crash (both
 * engines promise at-least-once steps), so each one first reads what it did before and answers
 * from that, as our participants do with their inbox and their rows.
 */

export interface OrderLine {
  sku: string;
  quantity: number;
}

/** `POST /orders`'s body, with the id the order was given. */
export interface PeerOrder {
  orderId: string;
  customerId: string;
  items: OrderLine[];
  shippingAddress: { country: string; city: string; line1: string };
}

/** A step either did its work or was refused for a business reason: refusals are answers, not errors. */
export type StepResult<T = object> = ({ ok: true } & T) | { ok: false; reason: string };

export type SagaEnd = 'CONFIRMED' | 'REJECTED' | 'CANCELLED';

async function inTransaction<T>(db: pg.Pool, work: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  const tx = await db.connect();
  try {
    await tx.query('BEGIN');
    const result = await work(tx);
    await tx.query('COMMIT');
    return result;
  } catch (error) {
    await tx.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    tx.release();
  }
}

/** The order's quantities per sku, skus sorted: locks are always taken in that order. */
function perSku(items: OrderLine[]): { skus: string[]; quantities: number[] } {
  const bySku = new Map<string, number>();
  for (const { sku, quantity } of items) bySku.set(sku, (bySku.get(sku) ?? 0) + quantity);
  const skus = [...bySku.keys()].sort();
  return { skus, quantities: skus.map((sku) => bySku.get(sku)!) };
}

type Bucket = 'on_hand' | 'reserved' | 'shipped';

async function moveStock(tx: pg.PoolClient, items: OrderLine[], from: Bucket, to: Bucket): Promise<void> {
  const { skus, quantities } = perSku(items);
  // One UPDATE locks its rows in whatever order the join yields; two orders of the same skus in
  // another order would deadlock, so several rows are locked in sku order first.
  if (skus.length > 1)
    await tx.query('SELECT 1 FROM inventory.product WHERE sku = ANY($1) ORDER BY sku FOR UPDATE', [skus]);
  await tx.query(
    `UPDATE inventory.product p SET ${from} = p.${from} - m.quantity, ${to} = p.${to} + m.quantity
       FROM unnest($1::text[], $2::int[]) AS m(sku, quantity) WHERE p.sku = m.sku`,
    [skus, quantities],
  );
}

/** Reserves every line or none; answers the order's total from the catalogue's prices. */
export function reserveStock(db: pg.Pool, order: PeerOrder): Promise<StepResult<{ total: number }>> {
  return inTransaction(db, async (tx) => {
    const { skus, quantities } = perSku(order.items);
    const {
      rows: [earlier],
    } = await tx.query<{ status: string; reason: string | null }>(
      'SELECT status::text, reason FROM inventory.reservation WHERE order_id = $1 FOR UPDATE',
      [order.orderId],
    );
    const { rows: products } = await tx.query<{ sku: string; price: number; on_hand: number }>(
      `SELECT sku, price, on_hand FROM inventory.product WHERE sku = ANY($1) ORDER BY sku
         ${earlier ? '' : 'FOR UPDATE'}`,
      [skus],
    );
    const price = new Map(products.map((p) => [p.sku, p.price]));
    const total = order.items.reduce((sum, line) => sum + line.quantity * (price.get(line.sku) ?? 0), 0);
    if (earlier)
      return earlier.status === 'RESERVED' || earlier.status === 'COMMITTED'
        ? { ok: true, total }
        : { ok: false, reason: earlier.reason ?? 'released' };

    const short = skus.find((sku, i) => {
      const product = products.find((p) => p.sku === sku);
      return !product || product.on_hand < quantities[i]!;
    });
    const reason = short === undefined ? null : price.has(short) ? 'out_of_stock' : 'unknown_sku';
    await tx.query(
      `INSERT INTO inventory.reservation (order_id, status, items, reason, sku) VALUES ($1, $2, $3, $4, $5)`,
      [order.orderId, reason ? 'REJECTED' : 'RESERVED', JSON.stringify(order.items), reason, short ?? null],
    );
    if (reason) return { ok: false, reason };
    await moveStock(tx, order.items, 'on_hand', 'reserved');
    return { ok: true, total };
  });
}

/** Compensates {@link reserveStock}: reserved stock goes back on hand. */
export function releaseStock(db: pg.Pool, order: PeerOrder): Promise<void> {
  return inTransaction(db, async (tx) => {
    const { rowCount } = await tx.query(
      `UPDATE inventory.reservation SET status = 'RELEASED', updated_at = now()
        WHERE order_id = $1 AND status = 'RESERVED'`,
      [order.orderId],
    );
    if (rowCount) await moveStock(tx, order.items, 'reserved', 'on_hand');
  });
}

/** Takes `amount` off the customer's available credit, or declines. */
export function chargePayment(db: pg.Pool, order: PeerOrder, amount: number): Promise<StepResult> {
  return inTransaction(db, async (tx) => {
    const {
      rows: [earlier],
    } = await tx.query<{ status: string; reason: string | null }>(
      'SELECT status::text, reason FROM payment.payment WHERE order_id = $1 FOR UPDATE',
      [order.orderId],
    );
    if (earlier)
      return earlier.status === 'CHARGED'
        ? { ok: true }
        : { ok: false, reason: earlier.reason ?? 'declined' };

    const { rowCount } = await tx.query(
      `UPDATE payment.customer SET available_credit = available_credit - $2
        WHERE id = $1 AND available_credit >= $2`,
      [order.customerId, amount],
    );
    const known =
      rowCount === 1 ||
      (await tx.query('SELECT 1 FROM payment.customer WHERE id = $1', [order.customerId])).rowCount === 1;
    const reason = rowCount === 1 ? null : known ? 'credit_limit_exceeded' : 'customer_unknown';
    await tx.query(
      `INSERT INTO payment.payment (order_id, payment_id, customer_id, amount, status, reason, charged_at)
       VALUES ($1, CASE WHEN $5::text IS NULL THEN gen_random_uuid() END, $2, $3, $4, $5,
               CASE WHEN $5::text IS NULL THEN now() END)`,
      [order.orderId, order.customerId, amount, reason ? 'DECLINED' : 'CHARGED', reason],
    );
    return reason ? { ok: false, reason } : { ok: true };
  });
}

/** Compensates {@link chargePayment}: the amount goes back to the customer's credit. */
export function refundPayment(db: pg.Pool, order: PeerOrder): Promise<void> {
  return inTransaction(db, async (tx) => {
    const {
      rows: [refunded],
    } = await tx.query<{ customer_id: string; amount: number }>(
      `UPDATE payment.payment SET status = 'REFUNDED', refunded_at = now()
        WHERE order_id = $1 AND status = 'CHARGED' RETURNING customer_id, amount`,
      [order.orderId],
    );
    if (refunded)
      await tx.query('UPDATE payment.customer SET available_credit = available_credit + $2 WHERE id = $1', [
        refunded.customer_id,
        refunded.amount,
      ]);
  });
}

/** Books a shipment, or refuses a country that is not served. */
export function createShipment(db: pg.Pool, order: PeerOrder): Promise<StepResult> {
  return inTransaction(db, async (tx) => {
    const {
      rows: [earlier],
    } = await tx.query<{ status: string; reason: string | null }>(
      'SELECT status::text, reason FROM shipping.shipment WHERE order_id = $1 FOR UPDATE',
      [order.orderId],
    );
    if (earlier)
      return earlier.status === 'CREATED'
        ? { ok: true }
        : { ok: false, reason: earlier.reason ?? 'cancelled' };

    const { country, city, line1 } = order.shippingAddress;
    const { rowCount: unserved } = await tx.query('SELECT 1 FROM shipping.unserved_country WHERE code = $1', [
      country,
    ]);
    const reason = unserved ? 'country_not_served' : null;
    await tx.query(
      `INSERT INTO shipping.shipment (order_id, shipment_id, status, country, city, line1, items, reason)
       VALUES ($1, CASE WHEN $3::text IS NULL THEN gen_random_uuid() END, $2, $4, $5, $6, $7, $3)`,
      [
        order.orderId,
        reason ? 'REFUSED' : 'CREATED',
        reason,
        country,
        city,
        line1,
        JSON.stringify(order.items),
      ],
    );
    return reason ? { ok: false, reason } : { ok: true };
  });
}

/** The order as the client reads it, in its final status, priced from the order service's catalogue. */
async function recordOrder(tx: pg.PoolClient, order: PeerOrder, status: SagaEnd, reason: string | null) {
  const { skus, quantities } = perSku(order.items);
  const { country, city, line1 } = order.shippingAddress;
  const { rowCount } = await tx.query(
    `INSERT INTO "order"."order" (id, customer_id, status, reason, total, country, city, line1, correlation_id, updated_at)
     SELECT $1::uuid, $2::text, $3::text, $4::text, coalesce(sum(m.quantity * p.price), 0)::int,
            $7::text, $8::text, $9::text, $1::uuid::text, now()
       FROM unnest($5::text[], $6::int[]) AS m(sku, quantity) JOIN "order".product p USING (sku)
     ON CONFLICT (id) DO NOTHING`,
    [order.orderId, order.customerId, status, reason, skus, quantities, country, city, line1],
  );
  if (rowCount)
    await tx.query(
      `INSERT INTO "order".order_item (order_id, sku, quantity, unit_price)
       SELECT $1::uuid, m.sku, m.quantity, p.price
         FROM unnest($2::text[], $3::int[]) AS m(sku, quantity) JOIN "order".product p USING (sku)`,
      [order.orderId, skus, quantities],
    );
}

/** The last step of a happy saga: the reservation leaves the shelf and the order is confirmed. */
export function confirmOrder(db: pg.Pool, order: PeerOrder): Promise<void> {
  return inTransaction(db, async (tx) => {
    const { rowCount } = await tx.query(
      `UPDATE inventory.reservation SET status = 'COMMITTED', updated_at = now()
        WHERE order_id = $1 AND status = 'RESERVED'`,
      [order.orderId],
    );
    if (rowCount) await moveStock(tx, order.items, 'reserved', 'shipped');
    await recordOrder(tx, order, 'CONFIRMED', null);
  });
}

/** The last step of a refused saga, after its compensations. */
export function endOrder(
  db: pg.Pool,
  order: PeerOrder,
  status: Exclude<SagaEnd, 'CONFIRMED'>,
  reason: string,
) {
  return inTransaction(db, (tx) => recordOrder(tx, order, status, reason));
}
