import type pg from 'pg';
import {
  chargePayment,
  confirmOrder,
  createShipment,
  endOrder,
  refundPayment,
  releaseStock,
  reserveStock,
  type PeerOrder,
  type SagaEnd,
} from './order-steps.js';

/** How an engine makes a step durable: it runs `work` once and remembers its result under `name`. */
export type DurableStep = <T>(name: string, work: () => Promise<T>) => Promise<T>;

/**
 * The order saga both peer engines run, as plain code: reserve stock, charge the payment, create
 * the shipment, confirm; a refused step undoes the steps before it in reverse order. `step` is the
 * only thing an engine adds, and it is what makes a crash mid-saga resume after the last step done
 * instead of from the start.
 */
export async function runOrderSaga(db: pg.Pool, order: PeerOrder, step: DurableStep): Promise<SagaEnd> {
  const undo: [name: string, compensate: () => Promise<void>][] = [];
  const cancel = async (reason: string): Promise<SagaEnd> => {
    for (const [name, compensate] of undo.reverse()) await step(name, compensate);
    await step('cancelOrder', () => endOrder(db, order, 'CANCELLED', reason));
    return 'CANCELLED';
  };

  const stock = await step('reserveStock', () => reserveStock(db, order));
  if (!stock.ok) {
    await step('rejectOrder', () => endOrder(db, order, 'REJECTED', stock.reason));
    return 'REJECTED';
  }
  undo.push(['releaseStock', () => releaseStock(db, order)]);

  const payment = await step('chargePayment', () => chargePayment(db, order, stock.total));
  if (!payment.ok) return cancel(payment.reason);
  undo.push(['refundPayment', () => refundPayment(db, order)]);

  const shipment = await step('createShipment', () => createShipment(db, order));
  if (!shipment.ok) return cancel(shipment.reason);

  await step('confirmOrder', () => confirmOrder(db, order));
  return 'CONFIRMED';
}
