/**
 * Delta debugging (Zeller's ddmin, complements only): removes ever smaller chunks of `items` while
 * `stillFails` says the rest still fails. `stillFails` returns the items that actually took part
 * (a replay skips actions that became impossible), or null when the candidate passes.
 *
 * The result is 1-minimal when the budget allows: removing any single item makes the failure go.
 */
export function ddmin<T>(
  items: readonly T[],
  stillFails: (candidate: readonly T[]) => readonly T[] | null,
  budget = 5_000,
): T[] {
  let current = [...items];
  let chunks = 2;
  let tests = 0;
  while (current.length > 0 && tests < budget) {
    const size = Math.ceil(current.length / chunks);
    let reduced = false;
    for (let start = 0; start < current.length && tests < budget; start += size) {
      tests++;
      const kept = stillFails([...current.slice(0, start), ...current.slice(start + size)]);
      if (kept) {
        current = [...kept];
        chunks = Math.max(chunks - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (size === 1) break;
      chunks = Math.min(chunks * 2, current.length);
    }
  }
  return current;
}
