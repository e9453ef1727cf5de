import { simulate } from '../simulation.js';

/** A seed that broke an invariant: enough to re-run it (it is deterministic) and shrink it. */
export interface Failure {
  seed: number;
  rule: string;
  detail: string;
}

export interface Progress {
  /** Seeds finished since the previous report. */
  done: number;
  failures: Failure[];
  /** How the sagas of those seeds ended, by status; `healed` counts those back from COMPENSATION_FAILED. */
  ended: Record<string, number>;
}

/**
 * Runs seeds `from`..`from + count - 1`, reporting every `every` seeds; awaits `report` so a
 * caller on the main thread can let its progress bar draw.
 */
export async function runRange(
  from: number,
  count: number,
  report: (progress: Progress) => void | Promise<void>,
  every = 50,
): Promise<void> {
  let pending: Progress = { done: 0, failures: [], ended: {} };
  for (let seed = from; seed < from + count; seed++) {
    const { violation, statuses, healed } = simulate(seed);
    if (violation) pending.failures.push({ seed, rule: violation.rule, detail: violation.detail });
    for (const status of Object.values(statuses)) pending.ended[status] = (pending.ended[status] ?? 0) + 1;
    pending.ended.healed = (pending.ended.healed ?? 0) + healed;
    if (++pending.done === every || seed === from + count - 1) {
      await report(pending);
      pending = { done: 0, failures: [], ended: {} };
    }
  }
}
