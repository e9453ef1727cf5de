import type {
  OrderConfirmed,
  OrderLine,
  ReleaseStock,
  ReserveStock,
  StockReleased,
  StockReserved,
  StockUnavailable,
} from '@order-saga/contracts';

export type ReservationStatus = 'RESERVED' | 'REJECTED' | 'RELEASED' | 'COMMITTED';

/** What this service remembers about one order; one per order, whatever the outcome. */
export interface Reservation {
  orderId: string;
  status: ReservationStatus;
  /** The lines as the order asked for them; empty on a tombstone. */
  items: OrderLine[];
  /** Set when REJECTED, so a repeated command gets the same answer. */
  rejection: Rejection | null;
}

export interface Rejection {
  reason: StockUnavailable['reason'];
  sku: string;
}

/** The free stock of one product, read under a row lock. */
export interface ProductStock {
  sku: string;
  onHand: number;
}

/** Every unit of a product sits in exactly one bucket; a move keeps the sum constant. */
export type Bucket = 'onHand' | 'reserved' | 'shipped';

export interface StockMove {
  sku: string;
  quantity: number;
  from: Bucket;
  to: Bucket;
}

export type Reply =
  | { type: 'StockReserved'; payload: StockReserved }
  | { type: 'StockUnavailable'; payload: StockUnavailable }
  | { type: 'StockReleased'; payload: StockReleased };

/** What to write for one message: the reservation's new state, the stock moves, the replies. */
export interface Decision {
  /** Absent when the reservation does not change. */
  save?: Reservation;
  moves: StockMove[];
  send: Reply[];
  /** Why a message changed nothing, for the log; `error` when a person should look. */
  note?: { level: 'warn' | 'error'; text: string };
}

/**
 * One line per sku, quantities summed, in the order the skus first appear: an order listing
 * `widget` twice needs both lines' units on hand at once, and "the first line that failed" keeps
 * meaning the order's own first line.
 */
export function totalsBySku(lines: readonly OrderLine[]): OrderLine[] {
  const totals = new Map<string, number>();
  for (const line of lines) totals.set(line.sku, (totals.get(line.sku) ?? 0) + line.quantity);
  return [...totals].map(([sku, quantity]) => ({ sku, quantity }));
}

/**
 * All or nothing: holds every line or none. A repeated command (the orchestrator re-sends when a
 * reply is late) re-emits the first outcome without touching stock again.
 */
export function reserve(existing: Reservation | null, command: ReserveStock, stock: readonly ProductStock[]): Decision {
  if (existing) return replay(existing);
  const onHand = new Map(stock.map((p) => [p.sku, p.onHand]));
  const lines = totalsBySku(command.items);
  for (const line of lines) {
    const available = onHand.get(line.sku);
    const reason = available === undefined ? 'unknown_sku' : available < line.quantity ? 'out_of_stock' : null;
    if (reason) {
      return {
        save: { orderId: command.orderId, status: 'REJECTED', items: command.items, rejection: { reason, sku: line.sku } },
        moves: [],
        send: [{ type: 'StockUnavailable', payload: { orderId: command.orderId, reason, sku: line.sku } }],
      };
    }
  }
  return {
    save: { orderId: command.orderId, status: 'RESERVED', items: command.items, rejection: null },
    moves: lines.map((line) => ({ ...line, from: 'onHand', to: 'reserved' })),
    send: [stockReserved(command.orderId, command.items)],
  };
}

function replay(existing: Reservation): Decision {
  switch (existing.status) {
    case 'RESERVED':
    case 'COMMITTED':
      return { moves: [], send: [stockReserved(existing.orderId, existing.items)] };
    case 'REJECTED': {
      const { reason, sku } = existing.rejection!;
      return { moves: [], send: [{ type: 'StockUnavailable', payload: { orderId: existing.orderId, reason, sku } }] };
    }
    case 'RELEASED':
      // Either released or a tombstone: the order was compensated, so holding stock for it now
      // (e.g. a command replayed from the dead-letter topic) would strand that stock for good.
      return {
        moves: [],
        send: [],
        note: { level: 'warn', text: `ReserveStock for order ${existing.orderId} refused: its stock was already released` },
      };
  }
}

/**
 * Compensation: gives held stock back. Always acknowledged, even when nothing was held, so the
 * orchestrator can finish undoing the order; except after confirmation, which is never undone.
 */
export function release(existing: Reservation | null, command: ReleaseStock): Decision {
  const released: Reply = { type: 'StockReleased', payload: { orderId: command.orderId } };
  if (!existing) {
    // The tombstone: a ReserveStock arriving after this (late or replayed) finds it and is refused.
    return {
      save: { orderId: command.orderId, status: 'RELEASED', items: [], rejection: null },
      moves: [],
      send: [released],
    };
  }
  switch (existing.status) {
    case 'RESERVED':
      return {
        save: { ...existing, status: 'RELEASED' },
        moves: totalsBySku(existing.items).map((line) => ({ ...line, from: 'reserved', to: 'onHand' })),
        send: [released],
      };
    case 'REJECTED':
    case 'RELEASED':
      return { moves: [], send: [released] };
    case 'COMMITTED':
      return {
        moves: [],
        send: [],
        note: {
          level: 'error',
          text: `ReleaseStock for confirmed order ${existing.orderId} ignored: a confirmed order is never compensated`,
        },
      };
  }
}

/** The order is confirmed: its held stock leaves the shop for good and can no longer be released. */
export function commit(existing: Reservation | null, event: OrderConfirmed): Decision {
  if (existing?.status !== 'RESERVED') {
    return {
      moves: [],
      send: [],
      note: { level: 'warn', text: `OrderConfirmed for order ${event.orderId} with reservation ${existing?.status ?? 'none'}: nothing to commit` },
    };
  }
  return {
    save: { ...existing, status: 'COMMITTED' },
    moves: totalsBySku(existing.items).map((line) => ({ ...line, from: 'reserved', to: 'shipped' })),
    send: [],
  };
}

function stockReserved(orderId: string, items: OrderLine[]): Reply {
  return { type: 'StockReserved', payload: { orderId, items } };
}
