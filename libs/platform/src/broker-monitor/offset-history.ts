/**
 * When each offset of a partition was reached, from periodic samples of its end offset: the
 * interpolation table Burrow and kafka-lag-exporter keep to turn a lag in messages into a lag in
 * seconds without reading any message. Pure: the caller samples and passes the clock.
 */
export class OffsetHistory {
  private readonly samples: { offset: number; at: number }[] = [];

  /** @param capacity samples kept (the oldest are dropped): at a 5 s interval, 720 is an hour. */
  constructor(private readonly capacity = 720) {}

  /** Records the partition's end offset (the next offset to be written) at time `at` (ms). */
  record(endOffset: number, at: number): void {
    const last = this.samples.at(-1);
    // Only changes matter for interpolation, but the newest time must move on so an idle
    // partition's messages are not dated to the first sample.
    if (
      last &&
      last.offset === endOffset &&
      this.samples.length > 1 &&
      this.samples.at(-2)!.offset === endOffset
    ) {
      last.at = at;
      return;
    }
    this.samples.push({ offset: endOffset, at });
    if (this.samples.length > this.capacity) this.samples.shift();
  }

  /** The newest end offset recorded, or undefined before the first sample. */
  get end(): number | undefined {
    return this.samples.at(-1)?.offset;
  }

  /**
   * About when the message at `offset` was written (ms): interpolated between the two samples
   * around it. Older than the history: the oldest sample's time, so the age is a lower bound.
   * Not written yet: undefined.
   */
  writtenAt(offset: number): number | undefined {
    const samples = this.samples;
    if (samples.length === 0 || offset >= samples.at(-1)!.offset) return undefined;
    // The first sample whose end offset is past `offset`: the message existed by then.
    const i = samples.findIndex((s) => s.offset > offset);
    if (i <= 0) return samples[0]!.at;
    const before = samples[i - 1]!;
    const after = samples[i]!;
    const fraction = (offset - before.offset + 1) / (after.offset - before.offset);
    return before.at + fraction * (after.at - before.at);
  }

  /** Messages written during the last `windowMs` before `now`. */
  growth(windowMs: number, now: number): number {
    const end = this.samples.at(-1);
    if (!end) return 0;
    const from = this.samples.find((s) => s.at >= now - windowMs) ?? end;
    return end.offset - from.offset;
  }
}

/** max / mean of per-partition counts: 1 when even, higher when a few keys dominate. */
export function skewRatio(counts: number[]): number | undefined {
  const total = counts.reduce((a, b) => a + b, 0);
  if (counts.length === 0 || total === 0) return undefined;
  return Math.max(...counts) / (total / counts.length);
}
