import { OrderLines, ShipmentRefused } from '@order-saga/contracts';
import type { Shipment } from '../domain/shipment.js';
import { Prisma } from '../generated/prisma/client.js';
import type { Tx } from './prisma.service.js';

interface ShipmentRow {
  orderId: string;
  shipmentId: string | null;
  status: Shipment['status'];
  country: string | null;
  city: string | null;
  line1: string | null;
  items: unknown;
  reason: string | null;
}

/**
 * Loads the order's shipment and locks its row until the transaction ends, so a re-sent command
 * handled concurrently (possible while a partition moves between consumers) waits and then sees
 * this one's outcome. One row per order: there is no lock order to get wrong.
 *
 * No row means nothing to lock; two first commands racing for the same order both try to insert,
 * the primary key rejects the second, and the transport's retry then finds the row.
 */
export async function lockShipment(tx: Tx, orderId: string): Promise<Shipment | null> {
  const rows = await tx.$queryRaw<ShipmentRow[]>`
    SELECT order_id::text AS "orderId", shipment_id::text AS "shipmentId", status::text AS status,
           country, city, line1, items, reason
      FROM shipment
     WHERE order_id = ${orderId}::uuid
       FOR UPDATE`;
  const row = rows[0];
  return row ? toShipment(row) : null;
}

/** Writes the shipment's new state; the caller's transaction holds its lock, if the row existed. */
export async function saveShipment(tx: Tx, shipment: Shipment): Promise<void> {
  const delivery = shipment.delivery;
  const data = {
    status: shipment.status,
    shipmentId: shipment.status === 'REFUSED' ? null : shipment.shipmentId,
    reason: shipment.status === 'CREATED' ? null : shipment.reason,
    country: delivery?.address.country ?? null,
    city: delivery?.address.city ?? null,
    line1: delivery?.address.line1 ?? null,
    // Prisma writes SQL NULL into a Json column only as DbNull; a plain null is refused there.
    items: delivery ? delivery.items : Prisma.DbNull,
  };
  await tx.shipment.upsert({
    where: { orderId: shipment.orderId },
    create: { orderId: shipment.orderId, ...data },
    update: data,
  });
}

/** Shipping serves every country except those in `unserved_country`. */
export async function isCountryServed(tx: Tx, country: string): Promise<boolean> {
  return (await tx.unservedCountry.findUnique({ where: { code: country } })) === null;
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
