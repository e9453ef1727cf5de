import { mixedOrder } from '../saga/system.js';
import type { DrillSystem } from './drill.js';

/** What the load placed: every attempt, and the orders the API accepted (202). */
export interface Load {
  placed: number;
  accepted: Map<string, string>;
  refused: number;
  done: Promise<void>;
}

/**
 * Places `orders` orders at `rate` per second, each with its own idempotency key. An attempt the
 * API does not accept (the order service is down in some drills) is counted, not retried: an
 * order nobody accepted has no saga to check.
 */
export function placeOrders(
  system: DrillSystem,
  options: { orders: number; rate: number; onAttempt?: () => void },
): Load {
  const load: Load = { placed: 0, accepted: new Map(), refused: 0, done: Promise.resolve() };
  const inFlight: Promise<void>[] = [];
  load.done = (async () => {
    const started = Date.now();
    for (let i = 0; i < options.orders; i++) {
      const due = started + (i * 1000) / options.rate;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      const body = mixedOrder(i);
      load.placed += 1;
      inFlight.push(
        system
          .placeOrder(body)
          .then(async (response) => {
            if (response.status === 202) {
              const { orderId } = (await response.json()) as { orderId: string };
              load.accepted.set(orderId, body.customerId);
            } else load.refused += 1;
          })
          .catch(() => {
            load.refused += 1;
          })
          .finally(() => options.onAttempt?.()),
      );
    }
    await Promise.all(inFlight);
  })();
  return load;
}
