/** How long a crashed process waits before its next start. */
export interface BackoffPolicy {
  /** Wait before the first restart. */
  initialMs: number;
  /** The wait never grows beyond this. */
  maxMs: number;
  /** A process that stayed up this long is healthy again: its next crash waits `initialMs`. */
  stableMs: number;
}

export const defaultBackoff: BackoffPolicy = { initialMs: 500, maxMs: 30_000, stableMs: 60_000 };

/**
 * Capped exponential back-off: `initialMs` doubled per consecutive crash, never above `maxMs`.
 * A service that crashes on start-up (a bad migration, a missing variable) then costs one start
 * per 30 s instead of a hot loop on two cores, while a one-off crash is back within a second.
 */
export function restartDelay(consecutiveCrashes: number, policy: BackoffPolicy = defaultBackoff): number {
  const exponent = Math.max(0, consecutiveCrashes - 1);
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(exponent, 30));
}
