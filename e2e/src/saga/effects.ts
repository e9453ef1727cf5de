/**
 * The participants' effects, counted from the events they published rather than from their
 * tables. A table keyed by order id holds one row per order whatever happens (that is a schema
 * fact, not a test); the events topic is append-only, so a second charge, a refund of a charge
 * that never happened or a second shipment shows up there even when the table hides it.
 *
 * Replies are at-least-once and participants answer a re-sent command again, so one effect may be
 * announced several times: effects are counted by their own ids (`paymentId`, `shipmentId`),
 * never by messages.
 */

/** A consumed event: its message id, type and payload. */
export interface PublishedEvent {
  messageId: string;
  type: string;
  payload: Record<string, unknown>;
  /** The message whose handling published it (absent for events not caused by a message). */
  causationId?: string | null;
}

/** What the payment and shipping services did per order, by effect id. */
export interface Effects {
  /** orderId → paymentId → amount charged. */
  charges: Map<string, Map<string, number>>;
  /** orderId → paymentId → amount refunded (refunds of nothing, without a paymentId, are no effect). */
  refunds: Map<string, Map<string, number>>;
  /** orderId → shipment ids created. */
  shipments: Map<string, Set<string>>;
  /** orderId → shipment ids cancelled. */
  cancelledShipments: Map<string, Set<string>>;
}

/** An order as the test placed it and as the order service reports it at the end. */
export interface FinishedOrder {
  orderId: string;
  status: string;
  total: number;
  customerId: string;
}

/** Folds the events of `payment.events` and `shipping.events` into effects. */
export function effectsOf(events: readonly PublishedEvent[]): Effects {
  const effects: Effects = {
    charges: new Map(),
    refunds: new Map(),
    shipments: new Map(),
    cancelledShipments: new Map(),
  };
  const seen = new Set<string>();
  const add = <V>(map: Map<string, Map<string, V>>, orderId: string, id: string, value: V) => {
    const byId = map.get(orderId) ?? new Map<string, V>();
    // Two different amounts under one payment id would be a bug of its own: keep the first, and
    // let the amount checks below report the mismatch.
    if (!byId.has(id)) byId.set(id, value);
    map.set(orderId, byId);
  };
  const addId = (map: Map<string, Set<string>>, orderId: string, id: string) =>
    map.set(orderId, (map.get(orderId) ?? new Set()).add(id));

  for (const event of events) {
    // The relay may publish a row twice (a crash between send and mark): one message id, one effect.
    if (seen.has(event.messageId)) continue;
    seen.add(event.messageId);
    const p = event.payload as { orderId: string; paymentId?: string; shipmentId?: string; amount?: number };
    switch (event.type) {
      case 'PaymentCharged':
        add(effects.charges, p.orderId, p.paymentId!, p.amount!);
        break;
      case 'PaymentRefunded':
        if (p.paymentId) add(effects.refunds, p.orderId, p.paymentId, p.amount!);
        break;
      case 'ShipmentCreated':
        addId(effects.shipments, p.orderId, p.shipmentId!);
        break;
      case 'ShipmentCancelled':
        if (p.shipmentId) addId(effects.cancelledShipments, p.orderId, p.shipmentId);
        break;
    }
  }
  return effects;
}

/** Money each order still holds: charged minus refunded. */
export function netCharge(effects: Effects, orderId: string): number {
  const sum = (m?: Map<string, number>) => [...(m?.values() ?? [])].reduce((a, b) => a + b, 0);
  return sum(effects.charges.get(orderId)) - sum(effects.refunds.get(orderId));
}

/**
 * Every way the effects disagree with the orders' outcomes, one line each; empty when:
 * at most one charge, one refund and one shipment per order; a refund pays back exactly a charge
 * that happened; a CONFIRMED order keeps a charge of its total and one live shipment, any other
 * order keeps neither; money captured − refunded equals the totals of the CONFIRMED orders.
 */
export function effectViolations(effects: Effects, orders: readonly FinishedOrder[]): string[] {
  const problems: string[] = [];
  const known = new Set(orders.map((o) => o.orderId));
  for (const map of [effects.charges, effects.refunds, effects.shipments] as const) {
    for (const orderId of map.keys())
      if (!known.has(orderId)) problems.push(`effect for unknown order ${orderId}`);
  }

  for (const order of orders) {
    const id = `${order.status} order ${order.orderId}`;
    const charges = effects.charges.get(order.orderId) ?? new Map<string, number>();
    const refunds = effects.refunds.get(order.orderId) ?? new Map<string, number>();
    if (charges.size > 1) problems.push(`${id} was charged ${charges.size} times`);
    if (refunds.size > 1) problems.push(`${id} was refunded ${refunds.size} times`);
    for (const [paymentId, amount] of refunds) {
      const charged = charges.get(paymentId);
      if (charged === undefined)
        problems.push(`${id} refunded payment ${paymentId}, which was never charged`);
      else if (charged !== amount) problems.push(`${id} refunded ${amount} of a ${charged} charge`);
    }
    const held = netCharge(effects, order.orderId);
    const expected = order.status === 'CONFIRMED' ? order.total : 0;
    if (held !== expected) problems.push(`${id} holds ${held}, expected ${expected}`);

    const created = effects.shipments.get(order.orderId) ?? new Set<string>();
    const cancelled = effects.cancelledShipments.get(order.orderId) ?? new Set<string>();
    if (created.size > 1) problems.push(`${id} got ${created.size} shipments`);
    for (const shipmentId of cancelled)
      if (!created.has(shipmentId))
        problems.push(`${id} cancelled shipment ${shipmentId}, which was never created`);
    const live = [...created].filter((s) => !cancelled.has(s)).length;
    if (live !== (order.status === 'CONFIRMED' ? 1 : 0)) problems.push(`${id} has ${live} live shipments`);
  }

  const captured = sumAll(effects.charges);
  const refunded = sumAll(effects.refunds);
  const confirmed = orders.filter((o) => o.status === 'CONFIRMED').reduce((sum, o) => sum + o.total, 0);
  if (captured - refunded !== confirmed) {
    problems.push(
      `captured ${captured} − refunded ${refunded} = ${captured - refunded}, confirmed totals ${confirmed}`,
    );
  }
  return problems;
}

/** Customers whose used credit (limit − available) is not the net of their orders' charges. */
export function creditViolations(
  effects: Effects,
  orders: readonly FinishedOrder[],
  customers: readonly { id: string; creditLimit: number; availableCredit: number }[],
): string[] {
  const net = new Map<string, number>();
  for (const o of orders) net.set(o.customerId, (net.get(o.customerId) ?? 0) + netCharge(effects, o.orderId));
  return customers.flatMap((c) => {
    const used = c.creditLimit - c.availableCredit;
    const charged = net.get(c.id) ?? 0;
    return used === charged
      ? []
      : [`customer ${c.id} has used ${used} of credit, net charges are ${charged}`];
  });
}

function sumAll(map: Map<string, Map<string, number>>): number {
  let sum = 0;
  for (const byId of map.values()) for (const amount of byId.values()) sum += amount;
  return sum;
}
