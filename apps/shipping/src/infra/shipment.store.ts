import type { PgTx } from '@order-saga/consumer';
import { OrderLines, ShipmentRefused } from '@order-saga/contracts';
import type { Shipment } from '../domain/shipment.js';
import type { Shipment as ShipmentModel, UnservedCountry } from '../generated/prisma/client.js';

type ShipmentRow = Pick<
  ShipmentModel,
  'orderId' | 'shipmentId' | 'status' | 'country' | 'city' | 'line1' | 'items' | 'reason'
>;

/**
 * Loads the order's shipment and locks its row until the transaction ends, so a re-sent command
 * handled concurrently (possible while a partition moves between consumers) waits and then sees
 * this one's outcome. One row per order: there is no lock order to get wrong.
 *
 * No row means nothing to lock; two first commands racing for the same order both try to insert,
 * the primary key rejects the second, and the transport's retry then finds the row.
 */
export async function lockShipment(tx: PgTx, orderId: string): Promise<Shipment | null> {
  const [row] = await tx.query<ShipmentRow>(
    `SELECT order_id::text AS "orderId", shipment_id::text AS "shipmentId", status::text AS status,
            country, city, line1, items, reason
       FROM shipment
      WHERE order_id = $1::uuid
        FOR UPDATE`,
    [orderId],
  );
  return row ? toShipment(row) : null;
}

/**
 * Writes the shipment's new state; `before` (what {@link lockShipment} found) tells a first
 * shipment from an update of the row the caller's transaction holds locked. A first one is
 * inserted, never upserted: a racing first command must be refused, not overwrite this one.
 */
export async function saveShipment(tx: PgTx, before: Shipment | null, shipment: Shipment): Promise<void> {
  const delivery = shipment.delivery;
  const values = [
    shipment.orderId,
    shipment.status,
    shipment.status === 'REFUSED' ? null : shipment.shipmentId,
    shipment.status === 'CREATED' ? null : shipment.reason,
    delivery?.address.country ?? null,
    delivery?.address.city ?? null,
    delivery?.address.line1 ?? null,
    // node-postgres would send a JS array as a PostgreSQL array, not as JSON; a tombstone has none.
    delivery ? JSON.stringify(delivery.items) : null,
  ];
  if (!before) {
    await tx.execute(
      `INSERT INTO shipment (order_id, status, shipment_id, reason, country, city, line1, items)
       VALUES ($1::uuid, $2::shipment_status, $3::uuid, $4, $5, $6, $7, $8::jsonb)`,
      values,
    );
    return;
  }
  const updated = await tx.execute(
    `UPDATE shipment
        SET status = $2::shipment_status, shipment_id = $3::uuid, reason = $4, country = $5, city = $6,
            line1 = $7, items = $8::jsonb, updated_at = now()
      WHERE order_id = $1::uuid`,
    values,
  );
  if (updated !== 1) throw new Error(`shipment of order ${shipment.orderId} vanished while locked`);
}

/** Shipping serves every country except those in `unserved_country`. */
export async function isCountryServed(tx: PgTx, country: string): Promise<boolean> {
  const unserved = await tx.query<Pick<UnservedCountry, 'code'>>(`SELECT code FROM unserved_country WHERE code = $1`, [
    country,
  ]);
  return unserved.length === 0;
}

// The table's CHECK constraints guarantee these shapes; parsing with the contracts' schemas keeps
// a row edited by hand from turning into a reply that breaks the contract downstream.
function toShipment(row: ShipmentRow): Shipment {
  const delivery =
    row.items === null
      ? null
      : {
          address: { country: row.country!, city: row.city!, line1: row.line1! },
          items: OrderLines.parse(row.items),
        };
  switch (row.status) {
    case 'CREATED':
      return { status: 'CREATED', orderId: row.orderId, shipmentId: row.shipmentId!, delivery: delivery! };
    case 'REFUSED':
      return {
        status: 'REFUSED',
        orderId: row.orderId,
        reason: ShipmentRefused.shape.reason.parse(row.reason),
        delivery: delivery!,
      };
    case 'CANCELLED':
      return {
        status: 'CANCELLED',
        orderId: row.orderId,
        shipmentId: row.shipmentId,
        reason: row.reason!,
        delivery,
      };
  }
}
