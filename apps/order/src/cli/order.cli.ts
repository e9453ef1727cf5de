#!/usr/bin/env node
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { OrderView } from '../get-order/order.view.js';
import { PlaceOrderAccepted, type PlaceOrderRequest } from '../place-order/place-order.request.js';

const TERMINAL: readonly OrderView['status'][] = [
  'CONFIRMED',
  'REJECTED',
  'CANCELLED',
  'COMPENSATION_FAILED',
];
// GET /orders/:id is one indexed read: a few a second show each step as it lands without load.
const POLL_MS = 150;

/** The API answered with an error, or did not answer: its problem+json, in one readable line. */
class ApiError extends Error {}
class Timeout extends Error {}

interface Problem {
  title?: string;
  detail?: string;
  errors?: { field: string; reason: string }[];
}

async function call(
  api: string,
  method: 'GET' | 'POST',
  path: string,
  init: RequestInit = {},
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(new URL(path, api), { ...init, method });
  } catch (error) {
    throw new ApiError(
      `cannot reach the order API at ${api} (${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}): is ./scripts/start running, or does ORDER_API point elsewhere?`,
    );
  }
  const text = await response.text();
  if (!response.ok) {
    let problem: Problem;
    try {
      problem = JSON.parse(text) as Problem;
    } catch {
      problem = { detail: text.slice(0, 200) };
    }
    const errors = (problem.errors ?? []).map((e) => `${e.field}: ${e.reason}`).join('; ');
    throw new ApiError(
      `${method} ${path} answered ${response.status} ${problem.title ?? response.statusText}` +
        (problem.detail ? `: ${problem.detail}` : '') +
        (errors ? ` (${errors})` : ''),
    );
  }
  return JSON.parse(text) as unknown;
}

interface WatchOptions {
  timeout: number;
  json?: boolean;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(3)}s`;

/** Prints each step of the order as it appears, until the order is final; then its summary. */
async function watch(api: string, orderId: string, options: WatchOptions): Promise<OrderView> {
  const deadline = Date.now() + options.timeout * 1000;
  let shown = 0;
  if (!options.json) console.log(`watching order ${orderId}`);
  for (;;) {
    const order = OrderView.parse(await call(api, 'GET', `/orders/${orderId}`));
    // The first step is written with the order itself: its time is when the order was placed.
    const placedAt = order.steps[0] ? Date.parse(order.steps[0].at) : Date.now();
    for (const step of order.steps.slice(shown)) {
      const since = Date.parse(step.at) - placedAt;
      if (options.json) console.log(JSON.stringify({ event: 'step', sincePlacedMs: since, ...step }));
      else
        console.log(
          `  ${`+${seconds(since)}`.padStart(8)}  ${step.name.padEnd(16)} ${step.outcome.padEnd(12)} ${step.detail ?? ''}`.trimEnd(),
        );
    }
    shown = order.steps.length;
    if (TERMINAL.includes(order.status)) {
      const last = order.steps.at(-1);
      const took = last ? Date.parse(last.at) - placedAt : 0;
      if (options.json) console.log(JSON.stringify({ event: 'done', ...order }));
      else {
        const lines = order.items.map((item) => `${item.quantity} × ${item.sku}`).join(', ');
        console.log(
          `${order.status} after ${seconds(took)}: ${lines}, total ${(order.total / 100).toFixed(2)}` +
            (order.reason ? `; reason: ${order.reason}` : ''),
        );
      }
      return order;
    }
    if (Date.now() > deadline)
      throw new Timeout(
        `order ${orderId} is still ${order.status} after ${options.timeout}s (its last step: ${order.steps.at(-1)?.name ?? 'none'})`,
      );
    await sleep(POLL_MS);
  }
}

const positiveInt = (value: string) => {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
};

const program = new Command('order')
  .description('Place an order on the order API and follow its saga, step by step.')
  .addOption(new Option('--api <url>', 'the order API').env('ORDER_API').default('http://127.0.0.1:3000'))
  .showHelpAfterError()
  .addHelpText(
    'after',
    `
Examples:
  pnpm order place --watch                                   place alice's 2 widgets to FR, follow them
  pnpm order place --customer bob --sku gadget --qty 1 --country DE
  pnpm order watch 3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e6f --json
  ORDER_API=http://orders.example:3000 pnpm order place --watch`,
  );

const timeoutOption = () =>
  new Option('--timeout <seconds>', 'give up (exit 2) if the order is not final by then')
    .argParser(positiveInt)
    .default(60);

program
  .command('place')
  .description('place an order (a new idempotency key each time, printed) and print its id')
  .option('--customer <id>', 'customer id', 'alice')
  .option('--sku <sku>', 'what to buy (the catalogue: widget, gadget, last-one)', 'widget')
  .addOption(new Option('--qty <n>', 'how many').argParser(positiveInt).default(2))
  .option('--country <code>', 'ISO 3166-1 alpha-2 country to ship to', 'FR')
  .option('--city <city>', 'city to ship to', 'Paris')
  .option('--line1 <address>', 'street address', '1 rue de Rivoli')
  .option('--key <idempotency-key>', 'reuse an idempotency key: the same body places nothing new')
  .option('-w, --watch', 'then follow the order until it is final (as `order watch`)')
  .addOption(timeoutOption())
  .option('--json', 'JSON lines instead of text')
  .action(
    async (options: {
      customer: string;
      sku: string;
      qty: number;
      country: string;
      city: string;
      line1: string;
      key?: string;
      watch?: boolean;
      timeout: number;
      json?: boolean;
    }) => {
      const { api } = program.opts<{ api: string }>();
      const key = options.key ?? randomUUID();
      const body: PlaceOrderRequest = {
        customerId: options.customer,
        items: [{ sku: options.sku, quantity: options.qty }],
        shippingAddress: { country: options.country, city: options.city, line1: options.line1 },
      };
      const accepted = PlaceOrderAccepted.parse(
        await call(api, 'POST', '/orders', {
          headers: { 'content-type': 'application/json', 'idempotency-key': key },
          body: JSON.stringify(body),
        }),
      );
      if (options.json) console.log(JSON.stringify({ event: 'placed', idempotencyKey: key, ...accepted }));
      else {
        console.log(`placed order ${accepted.orderId} (idempotency key ${key})`);
        console.log(
          `  ${options.qty} × ${options.sku} for ${options.customer}, to ${options.city} ${options.country}; ` +
            `read it: GET ${new URL(accepted.statusUrl, api).href}`,
        );
      }
      if (options.watch) await watch(api, accepted.orderId, options);
      else if (!options.json) console.log(`follow it: pnpm order watch ${accepted.orderId}`);
    },
  );

program
  .command('watch')
  .description(
    "print an order's steps as they happen (time since placed, step, outcome, detail) until it is final",
  )
  .argument('<orderId>', 'the id `order place` printed')
  .addOption(timeoutOption())
  .option('--json', 'JSON lines instead of text')
  .action(async (orderId: string, options: WatchOptions) => {
    const { api } = program.opts<{ api: string }>();
    await watch(api, orderId, options);
  });

try {
  await program.parseAsync();
} catch (error) {
  if (!(error instanceof ApiError || error instanceof Timeout)) throw error;
  console.error(`error: ${error.message}`);
  process.exitCode = error instanceof Timeout ? 2 : 1;
}
