import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { drills } from './drills.js';
import type { DrillReport } from './drill.js';
import { DrillRefused, formatReport, runDrill } from './run-drill.js';

/**
 * The CI subset, under a minute and a half each with --quick (broker-kill 50–80 s: it starts a
 * 3-node Kafka cluster of its own). These are the six the issue asks for. relay-crash is in since
 * the relay's drill hook (OUTBOX_RELAY_FAULT_HOLD_AFTER_SEND) holds a batch between the broker's
 * ack and the mark for its kill: random kills missed that millisecond-wide window. consumer-crash
 * holds its window (a handler's commit to its offset commit) the same way
 * (CONSUMER_FAULT_HOLD_AFTER_COMMIT).
 * `pnpm drill all` runs every drill.
 */
const quick = [
  'consumer-crash',
  'relay-crash',
  'poison',
  'ambiguous-payment',
  'orchestrator-crash',
  'broker-kill',
];
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const supervisorUrl = `http://127.0.0.1:${process.env.SUPERVISOR_PORT ?? 3900}`;

const program = new Command('drill')
  .description('Failure drills: load, one fault, recovery, and the invariants checked after it')
  .argument('[name]', 'a drill, `all`, or `list`; with --quick and no name, the CI subset', 'list')
  .option('--orders <n>', 'orders to place', (v) => Number(v), 60)
  .option('--rate <n>', 'orders per second', (v) => Number(v), 3)
  .option(
    '--quick',
    `CI-sized: at most 30 orders, long faults shortened; with no drill named, the CI subset (${quick.join(', ')})`,
  )
  .option('--logs <dir>', "write each service's log there after each drill (not with --attach)")
  .option(
    '--attach [url]',
    `run on the system ./scripts/start runs (its supervisor's control surface, default ${supervisorUrl}) instead of starting one of its own: faults through the supervisor, orders through its API, invariants from its databases and topics. Without --attach a drill always starts its own system. Drills that need their own settings, proxies or hooks refuse (\`pnpm drill list\` marks them)`,
  )
  .option('--json', 'print one JSON object (with `list`: the drills as a JSON array)')
  .option(
    '--events',
    'print progress and each report as JSON lines on stdout, for a program to follow (the console)',
  )
  .addHelpText(
    'after',
    '\nExamples:\n  pnpm drill list\n  pnpm drill database-outage --quick\n  pnpm drill --quick --json\n  pnpm drill poison --quick --events\n  ./scripts/start & pnpm drill consumer-crash --attach --quick',
  )
  .action(
    async (
      name: string,
      opts: {
        orders: number;
        rate: number;
        quick?: boolean;
        logs?: string;
        json?: boolean;
        events?: boolean;
        attach?: string | boolean;
      },
    ) => {
      if (name === 'list' && !opts.quick) {
        if (opts.json) console.log(JSON.stringify(drills.map((d) => ({ name: d.name, summary: d.summary }))));
        else
          for (const d of drills)
            console.log(`${d.name.padEnd(22)} ${d.summary}${d.ownSystemOnly ? ' [own system only]' : ''}`);
        return;
      }
      const attach = opts.attach
        ? { supervisorUrl: typeof opts.attach === 'string' ? opts.attach : supervisorUrl, root: repoRoot }
        : undefined;
      let chosen =
        name === 'list'
          ? drills.filter((d) => quick.includes(d.name))
          : name === 'all'
            ? drills
            : drills.filter((d) => d.name === name);
      if (chosen.length === 0) throw new Error(`no drill named ${name}: pnpm drill list`);
      if (attach && chosen.length > 1) {
        // A set of drills attached runs those that can, and says which it left out and why.
        for (const d of chosen.filter((d) => d.ownSystemOnly))
          process.stderr.write(`skipping ${d.name}: it cannot run attached: ${d.ownSystemOnly}\n`);
        chosen = chosen.filter((d) => !d.ownSystemOnly);
      }
      const orders = opts.quick ? Math.min(opts.orders, 30) : opts.orders;
      const log = (line: string) => {
        if (!opts.json) process.stderr.write(`${line}\n`);
      };
      const emit = (event: Record<string, unknown>) => {
        if (opts.events) process.stdout.write(`${JSON.stringify(event)}\n`);
      };
      const reports: DrillReport[] = [];
      for (const drill of chosen) {
        const bar =
          opts.json || opts.events || !process.stderr.isTTY
            ? undefined
            : new cliProgress.SingleBar(
                { format: `${drill.name} [{bar}] {value}/{total} orders placed`, clearOnComplete: true },
                cliProgress.Presets.shades_classic,
              );
        bar?.start(orders, 0);
        emit({ event: 'start', drill: drill.name, orders });
        const started = Date.now();
        // A drill that cannot run (its system or its cluster did not start) is a FAIL in the
        // report, and `all` goes on with the next one and still prints its table.
        const report = await runDrill(drill, {
          orders,
          rate: opts.rate,
          quick: !!opts.quick,
          logDir: opts.logs,
          attach,
          log: (line) => (opts.events ? emit({ event: 'log', line }) : bar ? undefined : log(line)),
          progress: (n) => (
            emit({ event: 'progress', drill: drill.name, placed: n, orders }),
            bar?.update(n)
          ),
        })
          .catch((error: unknown) => {
            if (error instanceof DrillRefused) throw error;
            return couldNotRun(drill.name, error, Date.now() - started);
          })
          .finally(() => bar?.stop());
        reports.push(report);
        emit({ event: 'report', report });
        if (!opts.json && !opts.events) console.log(`${formatReport(report)}\n`);
      }
      if (opts.json)
        console.log(
          JSON.stringify(reports.length === 1 ? reports[0] : { reports, pass: reports.every((r) => r.pass) }),
        );
      else if (reports.length > 1) {
        console.log('drill                 result  time     placed  accepted  drain');
        for (const r of reports)
          console.log(
            `${r.drill.padEnd(21)} ${(r.pass ? 'PASS' : 'FAIL').padEnd(7)} ${`${(r.durationMs / 1000).toFixed(0)} s`.padEnd(8)} ${String(r.orders.placed).padEnd(7)} ${String(r.orders.accepted).padEnd(9)} ${r.drainMs === null ? '-' : `${(r.drainMs / 1000).toFixed(1)} s`}`,
          );
      }
      if (reports.some((r) => !r.pass)) process.exitCode = 1;
    },
  );

function couldNotRun(drill: string, error: unknown, durationMs: number): DrillReport {
  const detail = error instanceof Error ? error.message : String(error);
  return {
    drill,
    orders: { placed: 0, accepted: 0, refused: 0, byStatus: {} },
    fault: { fault: 'none: the drill could not run', proven: false, figures: {} },
    drainMs: null,
    durationMs,
    duplicates: { delivered: 0, eventsRepublished: 0, effects: 0 },
    invariants: [{ name: 'the drill ran', pass: false, detail: detail.slice(0, 2000) }],
    pass: false,
  };
}

program.parseAsync().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  // A refusal is a usage error (2), not a failed drill (1).
  process.exitCode = error instanceof DrillRefused ? 2 : 1;
});
