#!/usr/bin/env node
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { shrink, simulate, type SimulationResult } from '../simulation.js';

const program = new Command('simulate')
  .description(
    'Deterministic simulation of the order saga: the real saga and domain code over a simulated log with crashes, ' +
      'redeliveries, outages and clock jumps. One seed is one schedule; a failure prints its shortest trace.',
  )
  .option('--seed <n>', 'run (replay) this one seed and print its trace', seedNumber)
  .option('--seeds <count>', 'run this many seeds', seedNumber, 1000)
  .option('--from <n>', 'first seed of --seeds', seedNumber, 1)
  .option('--full-trace', 'with --seed: print the whole run, not the shrunk one')
  .option('--json', 'machine-readable output on stdout')
  .addHelpText(
    'after',
    `
Examples:
  pnpm simulate --seeds 100000          run seeds 1..100000, list failing seeds, shrink the first
  pnpm simulate --seed 42               replay seed 42; if it fails, print the shortest trace found
  pnpm simulate --seed 42 --full-trace  print every step of seed 42 as it ran
Exit code 1 when any seed breaks an invariant.`,
  );

interface Options {
  seed?: number;
  seeds: number;
  from: number;
  fullTrace?: boolean;
  json?: boolean;
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

async function many({ seeds, from, json }: Options): Promise<number> {
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
  const failures: SimulationResult[] = [];
  let failed = 0;
  for (let done = 0; done < seeds;) {
    const chunkEnd = Math.min(seeds, done + 250);
    for (; done < chunkEnd; done++) {
      const result = simulate(from + done);
      if (!result.violation) continue;
      failed++;
      byRule.set(result.violation.rule, (byRule.get(result.violation.rule) ?? 0) + 1);
      if (failures.length < 100) failures.push(result);
    }
    const rate = Math.round((done / (performance.now() - started)) * 1000);
    bar?.update(done, { rate, failed });
    // Lets the progress bar draw; the seeds themselves never wait on anything.
    await yieldToEventLoop();
  }
  bar?.stop();
  const elapsedMs = performance.now() - started;
  const seedsPerSecond = Math.round((seeds / elapsedMs) * 1000);
  const first = failures[0];
  const shortest = first ? shrink(first) : null;
  if (json) {
    out(
      JSON.stringify({
        from,
        seeds,
        failed,
        elapsedMs: Math.round(elapsedMs),
        seedsPerSecond,
        byRule: Object.fromEntries(byRule),
        failures: failures.map((f) => ({
          seed: f.seed,
          rule: f.violation!.rule,
          detail: f.violation!.detail,
        })),
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
