import type { Engine } from '../engine.js';

/** What the seed puts on the shelf (prisma/inventory's seed migration). */
export const initialStock: Record<string, number> = { widget: 100_000, gadget: 10_000, 'last-one': 1 };

export const finalStatuses = ['CONFIRMED', 'REJECTED', 'CANCELLED'];

interface Rows {
  orders: { id: string; status: string; customer_id: string; total: number }[];
  lines: { order_id: string; sku: string; quantity: number }[];
  stock: { sku: string; on_hand: number; reserved: number; shipped: number }[];
  customers: { id: string; credit_limit: number; available_credit: number }[];
  payments: { order_id: string; status: string; amount: number; customer_id: string | null }[];
  shipments: { order_id: string; status: string }[];
}

async function read(engine: Engine): Promise<Rows> {
  const [orders, lines, stock, customers, payments, shipments] = await Promise.all([
    engine.query<Rows['orders'][number]>('order', 'SELECT id, status, customer_id, total FROM "order"'),
    engine.query<Rows['lines'][number]>('order', 'SELECT order_id, sku, quantity FROM order_item'),
    engine.query<Rows['stock'][number]>('inventory', 'SELECT sku, on_hand, reserved, shipped FROM product'),
    engine.query<Rows['customers'][number]>(
      'payment',
      'SELECT id, credit_limit, available_credit FROM customer',
    ),
    engine.query<Rows['payments'][number]>(
      'payment',
      'SELECT order_id, status::text, amount, customer_id FROM payment',
    ),
    engine.query<Rows['shipments'][number]>('shipping', 'SELECT order_id, status::text FROM shipment'),
  ]);
  return { orders, lines, stock, customers, payments, shipments };
}

const sumBy = <T>(rows: T[], key: (row: T) => string, value: (row: T) => number) => {
  const sums = new Map<string, number>();
  for (const row of rows) sums.set(key(row), (sums.get(key(row)) ?? 0) + value(row));
  return sums;
};

/**
 * The invariants order-saga's own suites check, read from any engine's tables once every saga
 * has ended: stock is conserved and what left the shelf is what the confirmed orders bought;
 * each customer's used credit is the net of their charges, which are the confirmed orders'
 * totals; a confirmed order has one live charge and one shipment, any other order neither.
 * Returns one line per violation (none: an empty list).
 */
export async function invariantViolations(engine: Engine): Promise<string[]> {
  const rows = await read(engine);
  const violations: string[] = [];
  const confirmed = new Map(rows.orders.filter((o) => o.status === 'CONFIRMED').map((o) => [o.id, o]));

  const open = rows.orders.filter((o) => !finalStatuses.includes(o.status));
  if (open.length > 0) violations.push(`${open.length} orders have not ended (${open[0]!.status}, …)`);

  const shippedBySku = sumBy(
    rows.lines.filter((l) => confirmed.has(l.order_id)),
    (l) => l.sku,
    (l) => l.quantity,
  );
  for (const p of rows.stock) {
    const initial = initialStock[p.sku];
    if (initial !== undefined && p.on_hand + p.reserved + p.shipped !== initial)
      violations.push(
        `${p.sku}: on hand + reserved + shipped = ${p.on_hand + p.reserved + p.shipped}, not ${initial}`,
      );
    if (p.reserved !== 0) violations.push(`${p.sku}: ${p.reserved} still reserved after every saga ended`);
    if (p.shipped !== (shippedBySku.get(p.sku) ?? 0))
      violations.push(
        `${p.sku}: ${p.shipped} shipped, confirmed orders bought ${shippedBySku.get(p.sku) ?? 0}`,
      );
  }

  const charged = rows.payments.filter((p) => p.status === 'CHARGED');
  const chargedByCustomer = sumBy(
    charged,
    (p) => p.customer_id ?? '',
    (p) => p.amount,
  );
  const confirmedByCustomer = sumBy(
    [...confirmed.values()],
    (o) => o.customer_id,
    (o) => o.total,
  );
  for (const c of rows.customers) {
    const used = c.credit_limit - c.available_credit;
    if (used !== (chargedByCustomer.get(c.id) ?? 0))
      violations.push(
        `${c.id}: ${used} of credit used, live charges total ${chargedByCustomer.get(c.id) ?? 0}`,
      );
    if ((chargedByCustomer.get(c.id) ?? 0) !== (confirmedByCustomer.get(c.id) ?? 0))
      violations.push(
        `${c.id}: live charges total ${chargedByCustomer.get(c.id) ?? 0}, confirmed orders ${confirmedByCustomer.get(c.id) ?? 0}`,
      );
  }

  const chargeOf = new Map(charged.map((p) => [p.order_id, p]));
  const shipped = new Set(rows.shipments.filter((s) => s.status === 'CREATED').map((s) => s.order_id));
  for (const order of rows.orders) {
    const isConfirmed = confirmed.has(order.id);
    const charge = chargeOf.get(order.id);
    if (isConfirmed && charge?.amount !== order.total)
      violations.push(`order ${order.id} is CONFIRMED without a charge of its total ${order.total}`);
    if (!isConfirmed && charge) violations.push(`order ${order.id} is ${order.status} and still charged`);
    if (isConfirmed !== shipped.has(order.id))
      violations.push(
        `order ${order.id} is ${order.status} ${isConfirmed ? 'without' : 'with'} a live shipment`,
      );
  }
  return violations;
}
