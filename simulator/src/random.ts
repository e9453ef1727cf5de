import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';

/**
 * The only source of choice in a simulation. Everything the simulator decides (which message is
 * delivered next, when a process crashes, how far the clock moves) is drawn from here, in a fixed
 * order, so one seed always replays one schedule.
 */
export class Random {
  private readonly rng: JumpableRandomGenerator;

  constructor(seed: number | JumpableRandomGenerator) {
    this.rng = typeof seed === 'number' ? xoroshiro128plus(seed) : seed;
  }

  /**
   * An independent stream (2^64 draws ahead), leaving this one where it is: what is drawn from one
   * does not shift the other, so e.g. a new kind of fault does not change the worlds seeds draw.
   */
  fork(): Random {
    const ahead = this.rng.clone();
    ahead.jump();
    return new Random(ahead);
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return uniformInt(this.rng, min, max);
  }

  /** True with probability `percent` / 100. */
  percent(percent: number): boolean {
    return percent > 0 && this.int(0, 99) < percent;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(0, items.length - 1)]!;
  }

  /** One of the keys, each as likely as its (integer) weight; null when every weight is 0. */
  weighted<K extends string>(weights: readonly (readonly [K, number])[]): K | null {
    const total = weights.reduce((sum, [, weight]) => sum + weight, 0);
    if (total === 0) return null;
    let ticket = this.int(0, total - 1);
    for (const [key, weight] of weights) {
      if (ticket < weight) return key;
      ticket -= weight;
    }
    throw new Error('unreachable: ticket beyond the total weight');
  }
}
