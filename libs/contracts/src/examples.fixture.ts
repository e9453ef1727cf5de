import type { MessageType, PayloadOf } from './registry.js';

// One valid payload per message type, for specs. Typed as a complete map so that registering a
// message without an example fails to compile.
const orderId = '0b7e4a52-3f7c-4d0e-9a35-6c1f2d8e9b10';
const items = [
  { sku: 'SKU-1', quantity: 2 },
  { sku: 'SKU-2', quantity: 1 },
];
const address = { country: 'FR', city: 'Lyon', line1: '1 rue de la République' };

export const examples: { [T in MessageType]: PayloadOf<T> } = {
  ReserveStock: { orderId, items },
  ReleaseStock: { orderId, reason: 'payment declined' },
  StockReserved: { orderId, items },
  StockUnavailable: { orderId, reason: 'out_of_stock', sku: 'SKU-2' },
  StockReleased: { orderId },
  ChargePayment: { orderId, customerId: 'customer-42', amount: 4_990 },
  RefundPayment: { orderId, reason: 'shipment refused' },
  PaymentCharged: { orderId, paymentId: 'pay-1', amount: 4_990 },
  PaymentDeclined: { orderId, reason: 'credit_limit_exceeded' },
  PaymentRefunded: { orderId, paymentId: 'pay-1', amount: 4_990 },
  CreateShipment: { orderId, address, items },
  CancelShipment: { orderId, reason: 'order cancelled' },
  ShipmentCreated: { orderId, shipmentId: 'ship-1' },
  ShipmentRefused: { orderId, reason: 'country_not_served' },
  ShipmentCancelled: { orderId, shipmentId: 'ship-1' },
  OrderPlaced: { orderId, customerId: 'customer-42', items, total: 4_990, shippingAddress: address },
  OrderConfirmed: { orderId },
  OrderRejected: { orderId, reason: 'out of stock' },
  OrderCancelled: { orderId, reason: 'customer request' },
  OrderCompensationFailed: { orderId, step: 'RefundPayment', reason: 'payment provider unreachable' },
  LedgerEntryRecorded: { aggregateId: 'ledger-1', seq: 0 },
};

export const exampleOrderId = orderId;
