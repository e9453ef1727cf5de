import { describe, expect, it } from 'vitest';
import { realSaga, replay, shrink, simulate, type SimulationResult } from './simulation.js';

/** What a failing run looks like to a person: the rule, the detail, the shortest trace found. */
function report(result: SimulationResult): string {
  if (!result.violation) return `seed ${result.seed} passed`;
  const shortest = shrink(result);
  return [
    `seed ${result.seed} breaks ${shortest.violation?.rule}: ${shortest.violation?.detail}`,
    ...(shortest.trace ?? []),
    `replay: pnpm simulate --seed ${result.seed}`,
  ].join('\n');
}

describe('deterministic simulation of the order saga', () => {
  it('replays one seed as the same schedule, bit for bit', () => {
    const first = simulate(1234, { trace: true });
    const second = simulate(1234, { trace: true });
    expect(second).toEqual(first);
    expect(first.steps).toBeGreaterThan(50);
    // The drawn schedule, replayed as a script, is the same run.
    expect(replay(1234, first.script, { trace: true }).trace).toEqual(first.trace);
  });

  // Defect 1 of issue 7: found by this simulator (seed 22 draws a saga that gives up compensating
  // while the relay lags, then the participants come back and an operator retries it).
  it('a saga in COMPENSATION_FAILED ends once its participants are back and an operator retried it (seed 22)', () => {
    const result = simulate(22, { saga: realSaga });
    expect(result.violation, report(result)).toBeNull();
  });

  it('keeps every invariant over 10,000 seeds', () => {
    const seeds = 10_000;
    const started = performance.now();
    const failures: SimulationResult[] = [];
    for (let seed = 1; seed <= seeds; seed++) {
      const result = simulate(seed);
      if (result.violation) failures.push(result);
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `simulated ${seeds} seeds in ${seconds.toFixed(1)} s (${Math.round(seeds / seconds)} seeds/s)`,
    );
    const summary = failures.map((f) => `${f.seed}: ${f.violation!.rule}`).slice(0, 20);
    expect(summary, failures[0] && report(failures[0])).toEqual([]);
  }, 300_000);
});
