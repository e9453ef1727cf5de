import { Injectable } from '@nestjs/common';
import type { OrderLine } from '@order-saga/contracts';
import { TransientError } from '@order-saga/consumer';
import type { Prisma } from '../generated/prisma/client.js';
import type { Decision, ProductStock, Rejection, Reservation, ReservationStatus, StockMove } from '../domain/reservation.js';
import type { Tx } from './prisma.service.js';

interface ReservationRow {
  orderId: string;
  status: ReservationStatus;
  items: OrderLine[];
  reason: Rejection['reason'] | null;
  sku: string | null;
}

/**
 * Reads and writes reservations and stock inside the handler's transaction. Locks are always
 * taken in one order, the reservation first, then products by sku, so two orders touching the
 * same products wait for each other instead of deadlocking.
 */
@Injectable()
export class StockStore {
  /** The order's reservation, locked until the transaction ends; null when there is none yet. */
  async reservation(orderId: string, tx: Tx): Promise<Reservation | null> {
    const [row] = await tx.$queryRaw<ReservationRow[]>`
      SELECT order_id AS "orderId", status::text AS status, items, reason, sku
      FROM reservation WHERE order_id = ${orderId}::uuid FOR UPDATE`;
    if (!row) return null;
    return {
      orderId: row.orderId,
      status: row.status,
      items: row.items,
      rejection: row.reason && row.sku ? { reason: row.reason, sku: row.sku } : null,
    };
  }

  /** Free stock of the known products among `skus`, locked until the transaction ends. */
  async lockProducts(skus: readonly string[], tx: Tx): Promise<ProductStock[]> {
    const unique = [...new Set(skus)].sort();
    return tx.$queryRaw<ProductStock[]>`
      SELECT sku, on_hand AS "onHand" FROM product
      WHERE sku = ANY(${unique}::text[]) ORDER BY sku FOR UPDATE`;
  }

  /** Writes what a decision changes: the reservation's new state and the stock moves. */
  async write(decision: Decision, previous: Reservation | null, tx: Tx): Promise<void> {
    if (decision.save) await this.save(decision.save, previous === null, tx);
    await this.move(decision.moves, tx);
  }

  /**
   * Writes a reservation. A new one is inserted, never upserted: if another delivery of the same
   * command committed one meanwhile, this transaction must not act a second time, so it fails
   * as transient and the retry finds that reservation.
   */
  private async save(reservation: Reservation, isNew: boolean, tx: Tx): Promise<void> {
    const data = {
      status: reservation.status,
      items: reservation.items as Prisma.InputJsonValue,
      reason: reservation.rejection?.reason ?? null,
      sku: reservation.rejection?.sku ?? null,
    };
    if (!isNew) {
      await tx.reservation.update({ where: { orderId: reservation.orderId }, data });
      return;
    }
    const { count } = await tx.reservation.createMany({
      data: [{ orderId: reservation.orderId, ...data }],
      skipDuplicates: true,
    });
    if (count === 0) {
      throw new TransientError(`order ${reservation.orderId} got a reservation from a concurrent delivery; retrying`);
    }
  }

  /** Applies stock moves in sku order (the lock order); the CHECK constraints refuse a negative bucket. */
  private async move(moves: readonly StockMove[], tx: Tx): Promise<void> {
    for (const m of [...moves].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0))) {
      await tx.product.update({
        where: { sku: m.sku },
        // The domain's bucket names are the model's field names.
        data: { [m.from]: { decrement: m.quantity }, [m.to]: { increment: m.quantity } },
      });
    }
  }
}
