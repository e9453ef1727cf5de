import { Injectable } from '@nestjs/common';
import type { OrderLine } from '@order-saga/contracts';
import { TransientError, type PgTx } from '@order-saga/consumer';
import type { Bucket, Decision, ProductStock, Rejection, Reservation, StockMove } from '../domain/reservation.js';
import type { Product, Reservation as ReservationModel } from '../generated/prisma/client.js';

type ReservationRow = Pick<ReservationModel, 'orderId' | 'status' | 'items' | 'reason' | 'sku'>;

/**
 * Reads and writes reservations and stock inside the handler's transaction. Locks are always
 * taken in one order, the reservation first, then products by sku, so two orders touching the
 * same products wait for each other instead of deadlocking.
 */
@Injectable()
export class StockStore {
  /** The order's reservation, locked until the transaction ends; null when there is none yet. */
  async reservation(orderId: string, tx: PgTx): Promise<Reservation | null> {
    const [row] = await tx.query<ReservationRow>(
      `SELECT order_id AS "orderId", status::text AS status, items, reason, sku
         FROM reservation WHERE order_id = $1::uuid FOR UPDATE`,
      [orderId],
    );
    if (!row) return null;
    return {
      orderId: row.orderId,
      status: row.status,
      // The CHECK constraint keeps items a JSON array; the lines were validated on the way in.
      items: row.items as OrderLine[],
      rejection: row.reason && row.sku ? { reason: row.reason as Rejection['reason'], sku: row.sku } : null,
    };
  }

  /** Free stock of the known products among `skus`, locked until the transaction ends. */
  async lockProducts(skus: readonly string[], tx: PgTx): Promise<ProductStock[]> {
    const unique = [...new Set(skus)].sort();
    return tx.query<Pick<Product, 'sku' | 'onHand'>>(
      `SELECT sku, on_hand AS "onHand" FROM product
        WHERE sku = ANY($1::text[]) ORDER BY sku FOR UPDATE`,
      [unique],
    );
  }

  /** Writes what a decision changes: the reservation's new state and the stock moves. */
  async write(decision: Decision, previous: Reservation | null, tx: PgTx): Promise<void> {
    if (decision.save) await this.save(decision.save, previous === null, tx);
    await this.move(decision.moves, tx);
  }

  /**
   * Writes a reservation. A new one is inserted, never upserted: if another delivery of the same
   * command committed one meanwhile, this transaction must not act a second time, so it fails
   * as transient and the retry finds that reservation.
   */
  private async save(reservation: Reservation, isNew: boolean, tx: PgTx): Promise<void> {
    const values = [
      reservation.orderId,
      reservation.status,
      // node-postgres would send a JS array as a PostgreSQL array, not as JSON.
      JSON.stringify(reservation.items),
      reservation.rejection?.reason ?? null,
      reservation.rejection?.sku ?? null,
    ];
    if (!isNew) {
      const updated = await tx.execute(
        `UPDATE reservation
            SET status = $2::"ReservationStatus", items = $3::jsonb, reason = $4, sku = $5, updated_at = now()
          WHERE order_id = $1::uuid`,
        values,
      );
      if (updated !== 1) throw new Error(`reservation of order ${reservation.orderId} vanished while locked`);
      return;
    }
    const inserted = await tx.execute(
      `INSERT INTO reservation (order_id, status, items, reason, sku)
       VALUES ($1::uuid, $2::"ReservationStatus", $3::jsonb, $4, $5)
       ON CONFLICT (order_id) DO NOTHING`,
      values,
    );
    if (inserted === 0) {
      throw new TransientError(`order ${reservation.orderId} got a reservation from a concurrent delivery; retrying`);
    }
  }

  /**
   * Applies all stock moves in one statement, one net change per sku. The products are locked in
   * sku order (the lock order) before any is updated: every updated row joins `locked`, whose
   * aggregate has to read, and so lock, all of them first; an UPDATE … FROM alone would lock rows
   * in whatever order its plan visits them. The CHECK constraints refuse a negative bucket, which
   * fails the whole statement.
   */
  private async move(moves: readonly StockMove[], tx: PgTx): Promise<void> {
    if (moves.length === 0) return;
    // UPDATE … FROM applies at most one joined row per product: two moves of one sku must be one row.
    const net = new Map<string, Record<Bucket, number>>();
    for (const m of moves) {
      const change = net.get(m.sku) ?? { onHand: 0, reserved: 0, shipped: 0 };
      change[m.from] -= m.quantity;
      change[m.to] += m.quantity;
      net.set(m.sku, change);
    }
    const skus = [...net.keys()];
    const changes = skus.map((sku) => net.get(sku)!);
    const updated = await tx.execute(
      `WITH locked AS MATERIALIZED (
         SELECT array_agg(sku) AS skus
           FROM (SELECT sku FROM product WHERE sku = ANY($1::text[]) ORDER BY sku FOR UPDATE) AS in_lock_order
       )
       UPDATE product AS p
          SET on_hand = p.on_hand + m.on_hand, reserved = p.reserved + m.reserved, shipped = p.shipped + m.shipped
         FROM locked, unnest($1::text[], $2::int[], $3::int[], $4::int[]) AS m(sku, on_hand, reserved, shipped)
        WHERE p.sku = m.sku AND p.sku = ANY(locked.skus)`,
      [skus, changes.map((c) => c.onHand), changes.map((c) => c.reserved), changes.map((c) => c.shipped)],
    );
    // Stock of a product that does not exist cannot move; skipping it would break the invariant.
    if (updated !== skus.length) {
      throw new Error(`stock moves name ${skus.length} products but ${updated} exist: ${skus.join(', ')}`);
    }
  }
}
