/**
 * Percentile bootstrap over the pairs of an evaluated set: how far a set-level score (a mean
 * metric, an mIoU summed over pairs' confusion matrices, an mAP) could move had other pairs
 * of the same kind been drawn. Resampling the same pair indices for every model compared
 * makes the interval of a difference a paired one.
 */
import { Rng } from '../nn/random';

/** A point estimate with its interval. */
export interface Interval {
  value: number;
  lo: number;
  hi: number;
}

/**
 * Percentile intervals of the scores `statistic` returns, over `resamples` draws of `n` pair
 * indices with replacement (seeded, so the same seed gives the same draws to every caller).
 * One draw feeds every score, so a statistic can return several (e.g. one per metric).
 * @param statistic scores of a multiset of pair indices; a NaN score is left out of its interval.
 * @param level coverage, default 0.95.
 */
export function bootstrapIntervals(
  n: number, statistic: (indices: number[]) => number[],
  o: { resamples?: number; seed?: number; level?: number } = {},
): Interval[] {
  if (!(n >= 1)) throw new Error(`bootstrapInterval: need at least one pair, got ${n}`);
  const resamples = o.resamples ?? 1000;
  const level = o.level ?? 0.95;
  const values = statistic(Array.from({ length: n }, (_, i) => i));
  const draws: number[][] = values.map(() => []);
  const rng = new Rng(o.seed ?? 1);
  for (let r = 0; r < resamples; r++) {
    const v = statistic(Array.from({ length: n }, () => rng.int(n)));
    v.forEach((x, k) => { if (Number.isFinite(x)) draws[k].push(x); });
  }
  return values.map((value, k) => {
    const d = draws[k].sort((a, b) => a - b);
    if (d.length === 0) return { value, lo: NaN, hi: NaN };
    const q = (p: number) => d[Math.min(d.length - 1, Math.max(0, Math.round(p * (d.length - 1))))];
    return { value, lo: q((1 - level) / 2), hi: q(1 - (1 - level) / 2) };
  });
}

/** {@link bootstrapIntervals} of a single score. */
export function bootstrapInterval(
  n: number, statistic: (indices: number[]) => number, o: { resamples?: number; seed?: number; level?: number } = {},
): Interval {
  return bootstrapIntervals(n, (idx) => [statistic(idx)], o)[0];
}
