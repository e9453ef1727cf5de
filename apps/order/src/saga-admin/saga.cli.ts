#!/usr/bin/env node
import Table from 'cli-table3';
import { Command, Option } from 'commander';
import type { SagaPage, SagaView } from './saga-admin.view.js';

/**
 * `pnpm saga`: what an operator does to sagas, through the order service's admin API (never its
 * database), with the admin token from `ADMIN_TOKEN`.
 */
const program = new Command('saga')
  .description("List sagas and resume failed ones, through the order service's admin API.")
  .addOption(
    new Option('--api <url>', 'base URL of the order service')
      .env('ORDER_API')
      .default('http://127.0.0.1:3000'),
  )
  .addHelpText(
    'after',
    `
The admin token is read from ADMIN_TOKEN (never from the command line, where ps would show it).

Examples:
  ADMIN_TOKEN=... pnpm saga list --status COMPENSATION_FAILED
  ADMIN_TOKEN=... pnpm saga retry 0196a0c4-0000-7000-8000-000000000001
  ADMIN_TOKEN=... ORDER_API=http://order:3000 pnpm saga list --json | jq .orderId`,
  );

const statuses = [
  'RESERVING',
  'CHARGING',
  'SHIPPING',
  'COMPENSATING',
  'CONFIRMED',
  'REJECTED',
  'CANCELLED',
  'COMPENSATION_FAILED',
];

class ApiError extends Error {}

async function call<T>(method: 'GET' | 'POST', path: string): Promise<T> {
  const { api } = program.opts<{ api: string }>();
  const url = new URL(path, api.endsWith('/') ? api : `${api}/`);
  const token = process.env['ADMIN_TOKEN'];
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new ApiError(`cannot reach the order service at ${api}: ${(error as Error).message}`);
  }
  const body = (await response.json().catch(() => null)) as (T & { detail?: string; title?: string }) | null;
  if (!response.ok) {
    const why = body?.detail ?? body?.title ?? response.statusText;
    throw new ApiError(`${method} ${url.pathname} answered ${response.status}: ${why}`);
  }
  return body as T;
}

const row = (s: SagaView) => [
  s.orderId,
  s.status,
  s.attempt,
  s.pending.join(', '),
  (s.reason ?? '').slice(0, 60),
  s.deadlineAt ?? '',
];
const head = ['order id', 'status', 'attempt', 'pending', 'reason', 'next deadline'];

program
  .command('list')
  .description('every saga, or those of one status, oldest order first')
  .addOption(new Option('-s, --status <status>', 'only sagas of this status').choices(statuses))
  .option('--json', 'print one JSON object per saga instead of a table')
  .action(async (options: { status?: string; json?: boolean }) => {
    const sagas: SagaView[] = [];
    let after: string | null = null;
    do {
      const query = new URLSearchParams({ limit: '200' });
      if (options.status) query.set('status', options.status);
      if (after) query.set('after', after);
      const page: SagaPage = await call<SagaPage>('GET', `admin/sagas?${query.toString()}`);
      sagas.push(...page.sagas);
      after = page.next;
    } while (after !== null);
    if (options.json) {
      for (const saga of sagas) console.log(JSON.stringify(saga));
      return;
    }
    if (sagas.length === 0) {
      console.log(options.status ? `no ${options.status} sagas` : 'no sagas');
      return;
    }
    const table = new Table({ head });
    for (const saga of sagas) table.push(row(saga));
    console.log(table.toString());
    console.log(`${sagas.length} saga(s)`);
  });

program
  .command('retry')
  .description("resume a COMPENSATION_FAILED saga's compensations: re-sent with fresh attempts and deadline")
  .argument('<orderId>', 'the order whose saga to resume')
  .option('--json', 'print the saga as JSON')
  .action(async (orderId: string, options: { json?: boolean }) => {
    const saga = await call<SagaView>('POST', `admin/sagas/${encodeURIComponent(orderId)}/retry`);
    if (options.json) {
      console.log(JSON.stringify(saga));
      return;
    }
    console.log(
      `order ${saga.orderId}: ${saga.status}, re-sent the compensations of ${saga.pending.join(', ')}`,
    );
  });

try {
  await program.parseAsync();
} catch (error) {
  if (!(error instanceof ApiError)) throw error;
  program.error(`error: ${error.message}`);
}
