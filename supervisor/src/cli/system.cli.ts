import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { defaultControlPort } from '../config.js';
import type { ProcessInfo } from '../supervisor.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const tokenFile = `${repoRoot}.run/admin-token`;

function adminToken(): string {
  const token =
    process.env.ADMIN_TOKEN ?? (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : '');
  if (!token) throw new Error(`no admin token: set ADMIN_TOKEN (./scripts/start writes one to ${tokenFile})`);
  return token;
}

async function call(base: string, method: 'GET' | 'POST', path: string): Promise<unknown> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: method === 'POST' ? { authorization: `Bearer ${adminToken()}` } : {},
  }).catch((error: unknown) => {
    throw new Error(
      `the supervisor does not answer at ${base} (is ./scripts/start running?): ${String(error)}`,
    );
  });
  const body = (await response.json()) as { error?: string };
  if (!response.ok)
    throw new Error(`${method} ${path} → ${response.status}: ${body.error ?? JSON.stringify(body)}`);
  return body;
}

function table(rows: readonly ProcessInfo[]): string {
  const lines = [['NAME', 'PID', 'STATE', 'RESTARTS', 'PORT', 'LAST EXIT']];
  for (const p of rows)
    lines.push([
      p.name,
      String(p.pid ?? '-'),
      p.state,
      String(p.restarts),
      String(p.port ?? '-'),
      p.lastExit ?? '-',
    ]);
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  return lines
    .map((l) =>
      l
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const program = new Command('system')
  .description('Control the processes ./scripts/start supervises (services, replicas, brokers)')
  .option(
    '--url <url>',
    'control surface',
    `http://127.0.0.1:${process.env.SUPERVISOR_PORT ?? defaultControlPort}`,
  )
  .option('--json', 'print JSON');

const print = (value: unknown, asTable: () => string) =>
  console.log(program.opts<{ json?: boolean }>().json ? JSON.stringify(value, null, 2) : asTable());

program
  .command('ps')
  .description('list processes: name, pid, state, restarts, port')
  .action(async () => {
    const rows = (await call(program.opts<{ url: string }>().url, 'GET', '/processes')) as ProcessInfo[];
    print(rows, () => table(rows));
  });

const descriptions: Record<string, string> = {
  start: 'start a stopped process',
  stop: 'stop a process (SIGTERM, then SIGKILL); it stays stopped',
  kill: 'kill -9 a process, like a crash: it is restarted with back-off',
  pause: 'freeze a process (SIGSTOP)',
  resume: 'let a paused process run again (SIGCONT)',
  restart: 'stop a process and start it again',
};
for (const [action, description] of Object.entries(descriptions)) {
  program
    .command(`${action} <name>`)
    .description(description)
    .action(async (name: string) => {
      const row = (await call(
        program.opts<{ url: string }>().url,
        'POST',
        `/processes/${encodeURIComponent(name)}/${action}`,
      )) as ProcessInfo;
      print(row, () => table([row]));
    });
}

program.parseAsync().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
