import type {
  Address,
  CancelShipment,
  CreateShipment,
  OrderLine,
  ShipmentCancelled,
  ShipmentCreated,
  ShipmentRefused,
} from '@order-saga/contracts';

/** Why an order cannot be shipped, as `ShipmentRefused` says it. */
export type RefusalReason = ShipmentRefused['reason'];

/** Where and what to ship, as `CreateShipment` brought it. */
export interface Delivery {
  address: Address;
  items: OrderLine[];
}

/**
 * The shipping side of one order; an order has at most one. A `CANCELLED` shipment without
 * `delivery` is a tombstone: the cancellation arrived before any `CreateShipment`.
 */
export type Shipment =
  | { status: 'CREATED'; orderId: string; shipmentId: string; delivery: Delivery }
  | { status: 'REFUSED'; orderId: string; reason: RefusalReason; delivery: Delivery }
  | {
      status: 'CANCELLED';
      orderId: string;
      shipmentId: string | null;
      reason: string;
      delivery: Delivery | null;
    };

/** The reply the orchestrator waits for: every command gets exactly one, re-sent or not. */
export type Reply =
  | { type: 'ShipmentCreated'; payload: ShipmentCreated }
  | { type: 'ShipmentRefused'; payload: ShipmentRefused }
  | { type: 'ShipmentCancelled'; payload: ShipmentCancelled };

/** What a command does: the shipment's new state (absent when it stays as it was) and the reply. */
export interface Decision {
  shipment?: Shipment;
  reply: Reply;
}

/** What `CreateShipment` needs besides the current shipment, looked up or made by the caller. */
export interface CreateShipmentFacts {
  countryServed: boolean;
  /** Used only when a shipment is created. */
  newShipmentId: string;
}

/**
 * `CreateShipment`. The orchestrator re-sends the command when the reply is late, so an order
 * that already has a shipment gets the reply it got the first time and nothing else happens. A
 * cancelled order is refused: its stock and money are being (or have been) given back.
 */
export function decideCreateShipment(
  current: Shipment | null,
  command: CreateShipment,
  facts: CreateShipmentFacts,
): Decision {
  const { orderId } = command;
  if (current) {
    switch (current.status) {
      case 'CREATED':
        return { reply: created(orderId, current.shipmentId) };
      case 'REFUSED':
        return { reply: refused(orderId, current.reason) };
      case 'CANCELLED':
        return { reply: refused(orderId, 'order_cancelled') };
    }
  }
  const delivery: Delivery = { address: command.address, items: command.items };
  if (!facts.countryServed) {
    const reason = 'country_not_served';
    return { shipment: { status: 'REFUSED', orderId, reason, delivery }, reply: refused(orderId, reason) };
  }
  const shipmentId = facts.newShipmentId;
  return {
    shipment: { status: 'CREATED', orderId, shipmentId, delivery },
    reply: created(orderId, shipmentId),
  };
}

/**
 * `CancelShipment`, a compensation: always acknowledged, so the saga can finish compensating.
 * `shipmentId` is in the reply only when a shipment existed. An order never seen gets a tombstone,
 * so a `CreateShipment` that arrives after its cancellation is refused.
 */
export function decideCancelShipment(current: Shipment | null, command: CancelShipment): Decision {
  const { orderId, reason } = command;
  if (!current) {
    return {
      shipment: { status: 'CANCELLED', orderId, shipmentId: null, reason, delivery: null },
      reply: cancelled(orderId, null),
    };
  }
  switch (current.status) {
    case 'CREATED':
      return {
        shipment: {
          status: 'CANCELLED',
          orderId,
          shipmentId: current.shipmentId,
          reason,
          delivery: current.delivery,
        },
        reply: cancelled(orderId, current.shipmentId),
      };
    case 'CANCELLED':
      return { reply: cancelled(orderId, current.shipmentId) };
    // Nothing was shipped; the row stays REFUSED so a re-sent CreateShipment keeps its first answer.
    case 'REFUSED':
      return { reply: cancelled(orderId, null) };
  }
}

const created = (orderId: string, shipmentId: string): Reply => ({
  type: 'ShipmentCreated',
  payload: { orderId, shipmentId },
});

const refused = (orderId: string, reason: RefusalReason): Reply => ({
  type: 'ShipmentRefused',
  payload: { orderId, reason },
});

const cancelled = (orderId: string, shipmentId: string | null): Reply => ({
  type: 'ShipmentCancelled',
  payload: shipmentId === null ? { orderId } : { orderId, shipmentId },
});
