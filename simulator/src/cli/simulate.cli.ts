#!/usr/bin/env node
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { shrink, simulate, type SimulationResult } from '../simulation.js';
import { runRange, type Failure, type Progress } from './seed-range.js';

const program = new Command('simulate')
  .description(
    'Deterministic simulation of the order saga: the real saga and domain code over a simulated log with crashes, ' +
      'redeliveries, outages and clock jumps. One seed is one schedule; a failure prints its shortest trace.',
  )
  .option('--seed <n>', 'run (replay) this one seed and print its trace', seedNumber)
  .option('--seeds <count>', 'run this many seeds', seedNumber, 1000)
  .option('--from <n>', 'first seed of --seeds', seedNumber, 1)
  .option('--full-trace', 'with --seed: print the whole run, not the shrunk one')
  .option('--workers <n>', 'with --seeds: worker threads sharing the seeds', workerCount, 1)
  .option('--json', 'machine-readable output on stdout')
  .addHelpText(
    'after',
    `
Examples:
  pnpm simulate --seeds 100000 --workers 2  seeds 1..100000 on 2 threads; list failing seeds, shrink the first
  pnpm simulate --seed 42                   replay seed 42; if it fails, print the shortest trace found
  pnpm simulate --seed 42 --full-trace      print every step of seed 42 as it ran
Exit code 1 when any seed breaks an invariant.`,
  );

interface Options {
  seed?: number;
  seeds: number;
  from: number;
  fullTrace?: boolean;
  json?: boolean;
  workers: number;
}

/** Splits the seeds into one contiguous slice per worker thread. */
function inWorkers(from: number, seeds: number, workers: number, onProgress: (p: Progress) => Promise<void>) {
  const slice = Math.ceil(seeds / workers);
  const runs = [];
  for (let start = 0; start < seeds; start += slice) {
    const worker = new Worker(new URL('./seed-range.worker.js', import.meta.url), {
      workerData: { from: from + start, count: Math.min(slice, seeds - start) },
    });
    worker.on('message', (progress: Progress) => void onProgress(progress));
    runs.push(
      new Promise<void>((resolve, reject) => {
        worker.on('error', reject);
        worker.on('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`worker exited with ${code}`)),
        );
      }),
    );
  }
  return Promise.all(runs);
}

function workerCount(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > 64)
    throw new InvalidArgumentError('expected an integer in 1..64');
  return n;
}

function seedNumber(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff)
    throw new InvalidArgumentError('expected an integer in 0..4294967295');
  return n;
}

const out = (text: string) => process.stdout.write(`${text}\n`);

function printFailure(result: SimulationResult, label: string): void {
  out(`${label}: seed ${result.seed} breaks ${result.violation!.rule}`);
  out(`  ${result.violation!.detail}`);
  out(
    `  ${result.script.length} actions while faults were on, ${result.steps} in all, ${result.orders} order${result.orders === 1 ? '' : 's'}:`,
  );
  for (const line of result.trace ?? []) out(`    ${line}`);
  out(`  replay: pnpm simulate --seed ${result.seed}`);
}

function one(seed: number, options: Options): number {
  const result = simulate(seed, { trace: true });
  const shown = result.violation && !options.fullTrace ? shrink(result) : result;
  if (options.json) {
    out(
      JSON.stringify({
        seed,
        ok: !result.violation,
        rule: shown.violation?.rule ?? null,
        detail: shown.violation?.detail ?? null,
        steps: result.steps,
        shrunk: shown !== result,
        trace: shown.trace,
        script: shown.script,
      }),
    );
  } else if (result.violation) {
    printFailure(shown, shown === result ? 'FAILED' : 'FAILED (shrunk)');
  } else {
    if (options.fullTrace) for (const line of result.trace ?? []) out(`  ${line}`);
    out(`seed ${seed}: every invariant held (${result.steps} steps, ${result.orders} orders)`);
  }
  return result.violation ? 1 : 0;
}

async function many({ seeds, from, json, workers }: Options): Promise<number> {
  const bar =
    !json && process.stderr.isTTY
      ? new SingleBar({
          format:
            'simulating {bar} {percentage}% | {value}/{total} seeds | {rate} seeds/s | {failed} failed | eta {eta_formatted}',
          etaBuffer: 2000,
          hideCursor: true,
        })
      : null;
  bar?.start(seeds, 0, { rate: 0, failed: 0 });
  const started = performance.now();
  const byRule = new Map<string, number>();
  let failures: Failure[] = [];
  let failed = 0;
  let done = 0;
  const ended: Record<string, number> = {};
  const onProgress = async (progress: Progress) => {
    done += progress.done;
    for (const [status, count] of Object.entries(progress.ended))
      ended[status] = (ended[status] ?? 0) + count;
    for (const failure of progress.failures) {
      failed++;
      byRule.set(failure.rule, (byRule.get(failure.rule) ?? 0) + 1);
      failures.push(failure);
    }
    const rate = Math.round((done / (performance.now() - started)) * 1000);
    bar?.update(done, { rate, failed });
    // Lets the progress bar draw; the seeds themselves never wait on anything.
    if (workers === 1) await yieldToEventLoop();
  };
  if (workers === 1) await runRange(from, seeds, onProgress);
  else await inWorkers(from, seeds, workers, onProgress);
  bar?.stop();
  failures = failures.sort((a, b) => a.seed - b.seed).slice(0, 100);
  const elapsedMs = performance.now() - started;
  const seedsPerSecond = Math.round((seeds / elapsedMs) * 1000);
  // Seeds are deterministic: the lowest failing one is simply run again, then shrunk.
  const first = failures[0];
  const shortest = first ? shrink(simulate(first.seed)) : null;
  if (json) {
    out(
      JSON.stringify({
        from,
        seeds,
        failed,
        elapsedMs: Math.round(elapsedMs),
        seedsPerSecond,
        byRule: Object.fromEntries(byRule),
        ended,
        workers,
        failures,
        shortest: shortest && {
          seed: shortest.seed,
          rule: shortest.violation?.rule,
          detail: shortest.violation?.detail,
          trace: shortest.trace,
          script: shortest.script,
        },
      }),
    );
    return failed > 0 ? 1 : 0;
  }
  out(
    `${seeds} seeds (${from}..${from + seeds - 1}) in ${(elapsedMs / 1000).toFixed(1)} s: ${seedsPerSecond} seeds/s, ${failed} failed`,
  );
  const { healed, ...statuses } = ended;
  const endings = Object.entries(statuses).sort(([a], [b]) => (a < b ? -1 : 1));
  out(`  sagas ended: ${endings.map(([status, count]) => `${status} ${count}`).join(', ')}`);
  out(`  back from COMPENSATION_FAILED: ${healed ?? 0}`);
  for (const [rule, count] of byRule) out(`  ${rule}: ${count} seeds`);
  if (failures.length > 0)
    out(
      `  failing seeds: ${failures
        .slice(0, 20)
        .map((f) => f.seed)
        .join(', ')}${failed > 20 ? ', …' : ''}`,
    );
  if (shortest) printFailure(shortest, 'first failure, shrunk');
  return failed > 0 ? 1 : 0;
}

const options = program.parse().opts<Options>();
process.exitCode = options.seed !== undefined ? one(options.seed, options) : await many(options);
