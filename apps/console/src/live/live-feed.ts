import type { IncomingMessage, ServerResponse } from 'node:http';

/** What the feed polls: order-view's JSON API, by path. */
export type ViewReader = (path: string) => Promise<unknown>;

/** The saga series the Sagas page draws: `step` wide buckets over `window`, oldest first. */
export const SERIES_PATH = '/stats/series?window=30m&step=1m';
const SERIES_EVERY_TICKS = 5;

/**
 * Server-sent events for every open page. The server polls order-view once a second whoever is
 * watching and tells the pages when the newest order or the counts changed (`changed`); every
 * fifth second it pushes the saga series for the sparklines (`series`). A hundred open tabs cost
 * order-view one query a second rather than a hundred. Other parts of the console publish their
 * own events through {@link publish} (a running drill: `drill`).
 *
 * The last value of each event is kept and sent to a page as soon as it connects, so a page
 * opened in the middle of a drill shows it at once.
 */
export class LiveFeed {
  private readonly clients = new Set<ServerResponse>();
  private readonly latest = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;

  constructor(private readonly view: ViewReader) {}

  subscribe(request: IncomingMessage, response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    response.write('retry: 2000\n\n');
    for (const [event, data] of this.latest) response.write(frame(event, data));
    this.clients.add(response);
    request.on('close', () => {
      this.clients.delete(response);
      if (this.clients.size === 0) this.stop();
    });
    if (!this.timer) {
      this.ticks = 0;
      this.timer = setInterval(() => void this.poll(), 1_000);
    }
  }

  /** Sends `data` as event `event` to every open page, unless it equals the last one sent. */
  publish(event: string, data: unknown): void {
    const text = JSON.stringify(data);
    if (this.latest.get(event) === text) return;
    this.latest.set(event, text);
    for (const client of this.clients) client.write(frame(event, text));
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    const tick = this.ticks++;
    try {
      const [page, stats] = (await Promise.all([this.view('/orders?limit=1'), this.view('/stats?window=15m')])) as [
        { items: { orderId: string; status: string }[] },
        { ordersByStatus: Record<string, number>; deadLetters: number },
      ];
      this.publish('changed', { newest: page.items[0] ?? null, counts: stats.ordersByStatus, deadLetters: stats.deadLetters });
      if (tick % SERIES_EVERY_TICKS === 0) {
        const { freshness: _freshness, ...series } = (await this.view(SERIES_PATH)) as Record<string, unknown>;
        this.publish('series', series);
      }
    } catch {
      // order-view down for a moment: the next tick tries again, the pages keep what they show
    }
  }
}

// An event's data is one line of JSON: JSON.stringify never emits a raw newline.
const frame = (event: string, data: string) => `event: ${event}\ndata: ${data}\n\n`;
