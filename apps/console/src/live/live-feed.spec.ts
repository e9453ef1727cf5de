import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveFeed, SERIES_PATH } from './live-feed.js';

// order-view as the feed reads it: one newest order, counts, and the series.
const view = async (path: string): Promise<unknown> => {
  if (path === SERIES_PATH) return { window: '30m', step: '1m', buckets: [{ start: '2026-12-02T07:00:00.000Z', completed: 3, p50: 400, p99: 900 }], freshness: {} };
  if (path.startsWith('/orders')) return { items: [{ orderId: 'o-1', status: 'CONFIRMED' }] };
  return { ordersByStatus: { CONFIRMED: 1 }, deadLetters: 0 };
};

let server: Server | undefined;
let feed: LiveFeed | undefined;
afterEach(async () => {
  feed?.stop();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

/** Opens the event stream and collects its events until `until` holds. */
async function events(url: string, until: (seen: { event: string; data: unknown }[]) => boolean) {
  const response = await fetch(url);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const seen: { event: string; data: unknown }[] = [];
  let buffer = '';
  while (!until(seen)) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(frame)?.[1];
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (event && data) seen.push({ event, data: JSON.parse(data) });
    }
  }
  await reader.cancel();
  return seen;
}

describe('the live feed', () => {
  it('pushes_the_saga_series_without_order_views_freshness_and_gives_a_late_page_the_last_drill_at_once', async () => {
    feed = new LiveFeed(view);
    const live = feed;
    server = createServer((request, response) => live.subscribe(request, response));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const first = await events(url, (seen) => seen.some((e) => e.event === 'series'));
    expect(first.find((e) => e.event === 'changed')?.data).toEqual({
      newest: { orderId: 'o-1', status: 'CONFIRMED' },
      counts: { CONFIRMED: 1 },
      deadLetters: 0,
    });
    expect(first.find((e) => e.event === 'series')?.data).toEqual({
      window: '30m',
      step: '1m',
      buckets: [{ start: '2026-12-02T07:00:00.000Z', completed: 3, p50: 400, p99: 900 }],
    });

    feed.publish('drill', { drill: 'poison', state: 'running', placed: 4 });
    const late = await events(url, (seen) => seen.some((e) => e.event === 'drill'));
    expect(late.find((e) => e.event === 'drill')?.data).toEqual({ drill: 'poison', state: 'running', placed: 4 });
  });
});
