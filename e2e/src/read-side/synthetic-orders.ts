import { randomUUID } from 'node:crypto';
import {
  causedBy,
  createEnvelope,
  toKafkaMessage,
  topicName,
  type Envelope,
  type MessageType,
  type OutgoingKafkaMessage,
  type PayloadOf,
} from '@order-saga/contracts';
import type { Producer } from 'kafkajs';

const items = [{ sku: 'widget', quantity: 2 }];
const address = { country: 'FR', city: 'Paris', line1: '1 rue de Rivoli' };

const topicOf: Record<string, string> = {
  OrderPlaced: 'order.events',
  OrderConfirmed: 'order.events',
  ReserveStock: 'inventory.commands',
  StockReserved: 'inventory.events',
  ChargePayment: 'payment.commands',
  PaymentCharged: 'payment.events',
  CreateShipment: 'shipping.commands',
  ShipmentCreated: 'shipping.events',
};

/** The eight messages of one confirmed order, as the four services would publish them. */
export function confirmedOrder(i: number): Envelope[] {
  const orderId = randomUUID();
  const out: Envelope[] = [];
  const add = <T extends MessageType>(type: T, payload: PayloadOf<T>) => {
    const cause = out.at(-1);
    out.push(createEnvelope(type, payload, cause ? causedBy(cause) : { correlationId: orderId }) as Envelope);
  };
  add('OrderPlaced', {
    orderId,
    customerId: `customer-${i % 1000}`,
    items,
    total: 2000,
    shippingAddress: address,
  });
  add('ReserveStock', { orderId, items });
  add('StockReserved', { orderId, items });
  add('ChargePayment', { orderId, customerId: `customer-${i % 1000}`, amount: 2000 });
  add('PaymentCharged', { orderId, paymentId: `p-${i}`, amount: 2000 });
  add('CreateShipment', { orderId, address, items });
  add('ShipmentCreated', { orderId, shipmentId: `s-${i}` });
  add('OrderConfirmed', { orderId });
  return out;
}

/** Publishes `orders` synthetic confirmed orders (8 messages each) under `prefix`; returns the message count. */
export async function publishOrders(
  producer: Producer,
  prefix: string,
  orders: number,
  first = 0,
): Promise<number> {
  const byTopic = new Map<string, OutgoingKafkaMessage[]>();
  let count = 0;
  for (let i = first; i < first + orders; i++) {
    for (const envelope of confirmedOrder(i)) {
      const topic = topicName(topicOf[envelope.type] as never, prefix);
      const list = byTopic.get(topic);
      if (list) list.push(toKafkaMessage(envelope));
      else byTopic.set(topic, [toKafkaMessage(envelope)]);
      count++;
    }
  }
  await producer.sendBatch({
    topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    acks: -1,
  });
  return count;
}
