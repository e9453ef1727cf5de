import { z } from 'zod';
import { Freshness } from '../http/freshness.interceptor.js';
import type { OrderSummary } from './order-summary.projection.js';

const Status = z.enum(['PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED', 'COMPENSATION_FAILED']);

export const TimelineItem = z.object({
  service: z.enum(['order', 'inventory', 'payment', 'shipping']).meta({ description: 'the service that published it' }),
  type: z.string(),
  topic: z.string().meta({ description: 'un-prefixed topic, e.g. payment.events' }),
  partition: z.int(),
  offset: z.int(),
  occurredAt: z.iso.datetime(),
  traceId: z.string().nullable(),
  compensation: z.boolean().meta({ description: 'true for messages that undo a step' }),
});

export const OrderSummaryItem = z.object({
  orderId: z.uuid(),
  status: Status,
  reason: z.string().nullable(),
  customerId: z.string(),
  items: z.array(z.object({ sku: z.string(), quantity: z.int() })),
  total: z.int().meta({ description: 'minor units (cents)' }),
  shippingAddress: z.object({ country: z.string(), city: z.string(), line1: z.string() }),
  placedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().nullable(),
  durationMs: z.int().nullable().meta({ description: 'place → terminal' }),
});
export type OrderSummaryItem = z.infer<typeof OrderSummaryItem>;

export const OrderDetail = OrderSummaryItem.extend({
  timeline: z.array(TimelineItem).meta({ description: 'every command and event of the order across services, in causal order' }),
  freshness: Freshness,
});
export type OrderDetail = Omit<z.infer<typeof OrderDetail>, 'freshness'>;

export const OrderPage = z.object({
  items: z.array(OrderSummaryItem),
  nextCursor: z.string().nullable().meta({ description: 'pass as `cursor` for the next page; null on the last page' }),
  freshness: Freshness,
});
export type OrderPage = Omit<z.infer<typeof OrderPage>, 'freshness'>;

/** The API's shape of a placed order's summary (only placed orders are listed or shown). */
export function toItem(view: OrderSummary): OrderSummaryItem {
  return {
    orderId: view.orderId,
    status: view.status!,
    reason: view.reason,
    customerId: view.customerId!,
    items: view.items!,
    total: view.total!,
    shippingAddress: view.shippingAddress!,
    placedAt: view.placedAt!,
    finishedAt: view.finishedAt,
    durationMs: view.durationMs,
  };
}

export function toDetail(view: OrderSummary): OrderDetail {
  return {
    ...toItem(view),
    timeline: view.timeline.map((e) => ({
      service: e.service,
      type: e.type,
      topic: e.topic,
      partition: e.partition,
      offset: Number(e.offset),
      occurredAt: e.occurredAt,
      traceId: e.traceId,
      compensation: e.compensation,
    })),
  };
}
