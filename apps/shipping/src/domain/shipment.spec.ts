import type { CancelShipment, CreateShipment } from '@order-saga/contracts';
import { describe, expect, it } from 'vitest';
import {
  type CreateShipmentFacts,
  type Delivery,
  type Shipment,
  decideCancelShipment,
  decideCreateShipment,
} from './shipment.js';

const orderId = '0193a3b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b';
const delivery: Delivery = {
  address: { country: 'FR', city: 'Lyon', line1: '1 rue de la République' },
  items: [{ sku: 'SKU-1', quantity: 2 }],
};
const createShipment: CreateShipment = { orderId, ...delivery };
const cancelShipment: CancelShipment = { orderId, reason: 'payment declined' };
const served: CreateShipmentFacts = { countryServed: true, newShipmentId: 'new-shipment-id' };
const notServed: CreateShipmentFacts = { countryServed: false, newShipmentId: 'new-shipment-id' };

const createdShipment: Shipment = { status: 'CREATED', orderId, shipmentId: 'first-shipment-id', delivery };
const refusedShipment: Shipment = { status: 'REFUSED', orderId, reason: 'country_not_served', delivery };
const cancelledShipment: Shipment = {
  status: 'CANCELLED',
  orderId,
  shipmentId: 'first-shipment-id',
  reason: 'stock released',
  delivery,
};
const tombstone: Shipment = {
  status: 'CANCELLED',
  orderId,
  shipmentId: null,
  reason: 'stock released',
  delivery: null,
};

describe('CreateShipment', () => {
  it('creates a shipment with a new id when the country is served', () => {
    const decision = decideCreateShipment(null, createShipment, served);

    expect(decision.shipment).toEqual({
      status: 'CREATED',
      orderId,
      shipmentId: 'new-shipment-id',
      delivery,
    });
    expect(decision.reply).toEqual({
      type: 'ShipmentCreated',
      payload: { orderId, shipmentId: 'new-shipment-id' },
    });
  });

  it('refuses an order to an unserved country and records the refusal', () => {
    const decision = decideCreateShipment(null, createShipment, notServed);

    expect(decision.shipment).toEqual({ status: 'REFUSED', orderId, reason: 'country_not_served', delivery });
    expect(decision.reply).toEqual({
      type: 'ShipmentRefused',
      payload: { orderId, reason: 'country_not_served' },
    });
  });

  it('re-sent for a created shipment re-emits ShipmentCreated with the first id and creates nothing', () => {
    const decision = decideCreateShipment(createdShipment, createShipment, served);

    expect(decision.shipment).toBeUndefined();
    expect(decision.reply).toEqual({
      type: 'ShipmentCreated',
      payload: { orderId, shipmentId: 'first-shipment-id' },
    });
  });

  it('re-sent for a refused order re-emits the refusal even if the country became served', () => {
    const decision = decideCreateShipment(refusedShipment, createShipment, served);

    expect(decision.shipment).toBeUndefined();
    expect(decision.reply).toEqual({
      type: 'ShipmentRefused',
      payload: { orderId, reason: 'country_not_served' },
    });
  });

  it('after a cancellation is refused as order_cancelled without creating a shipment', () => {
    const decision = decideCreateShipment(cancelledShipment, createShipment, served);

    expect(decision.shipment).toBeUndefined();
    expect(decision.reply).toEqual({
      type: 'ShipmentRefused',
      payload: { orderId, reason: 'order_cancelled' },
    });
  });

  it('arriving after a tombstone (cancel before create) is refused as order_cancelled', () => {
    const decision = decideCreateShipment(tombstone, createShipment, served);

    expect(decision.shipment).toBeUndefined();
    expect(decision.reply).toEqual({
      type: 'ShipmentRefused',
      payload: { orderId, reason: 'order_cancelled' },
    });
  });
});

describe('CancelShipment', () => {
  it('cancels a created shipment and names it in the reply', () => {
    const decision = decideCancelShipment(createdShipment, cancelShipment);

    expect(decision.shipment).toEqual({
      status: 'CANCELLED',
      orderId,
      shipmentId: 'first-shipment-id',
      reason: 'payment declined',
      delivery,
    });
    expect(decision.reply).toEqual({
      type: 'ShipmentCancelled',
      payload: { orderId, shipmentId: 'first-shipment-id' },
    });
  });

  it('re-sent for a cancelled shipment re-emits ShipmentCancelled and changes nothing', () => {
    const decision = decideCancelShipment(cancelledShipment, cancelShipment);

    expect(decision.shipment).toBeUndefined();
    expect(decision.reply).toEqual({
      type: 'ShipmentCancelled',
      payload: { orderId, shipmentId: 'first-shipment-id' },
    });
  });

  it('for a refused order is acknowledged without a shipment id and keeps the refusal', () => {
    const decision = decideCancelShipment(refusedShipment, cancelShipment);

    expect(decision.shipment).toBeUndefined();
    expect(decision.reply).toEqual({ type: 'ShipmentCancelled', payload: { orderId } });
  });

  it('for an order never seen is acknowledged and leaves a tombstone', () => {
    const decision = decideCancelShipment(null, cancelShipment);

    expect(decision.shipment).toEqual({
      status: 'CANCELLED',
      orderId,
      shipmentId: null,
      reason: 'payment declined',
      delivery: null,
    });
    expect(decision.reply).toEqual({ type: 'ShipmentCancelled', payload: { orderId } });
  });

  it('re-sent after a tombstone re-emits ShipmentCancelled without a shipment id', () => {
    const decision = decideCancelShipment(tombstone, cancelShipment);

    expect(decision.shipment).toBeUndefined();
    expect(decision.reply).toEqual({ type: 'ShipmentCancelled', payload: { orderId } });
  });
});
