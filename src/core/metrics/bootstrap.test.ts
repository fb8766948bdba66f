import { describe, expect, it } from 'vitest';
import { bootstrapInterval } from './bootstrap';
import { Rng } from '../nn/random';

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('bootstrapInterval', () => {
  it('brackets the mean with the width of a normal 95 % interval of the mean', () => {
    const rng = new Rng(3);
    const x = rng.normalArray(400, 5, 2);
    const r = bootstrapInterval(x.length, (idx) => mean(idx.map((i) => x[i])), { resamples: 2000, seed: 7 });
    expect(r.value).toBeCloseTo(mean(Array.from(x)), 12);
    expect(r.lo).toBeLessThan(r.value);
    expect(r.hi).toBeGreaterThan(r.value);
    // 2·1.96·σ/√n = 0.392 for σ = 2, n = 400.
    expect(r.hi - r.lo).toBeGreaterThan(0.3);
    expect(r.hi - r.lo).toBeLessThan(0.5);
  });

  it('is seeded, gives a zero-width interval to a constant, and skips NaN draws', () => {
    const f = (idx: number[]) => mean(idx.map((i) => i));
    expect(bootstrapInterval(20, f, { seed: 2 })).toEqual(bootstrapInterval(20, f, { seed: 2 }));
    expect(bootstrapInterval(10, () => 3)).toEqual({ value: 3, lo: 3, hi: 3 });
    expect(bootstrapInterval(5, () => NaN)).toEqual({ value: NaN, lo: NaN, hi: NaN });
    expect(() => bootstrapInterval(0, () => 1)).toThrow(/at least one pair/);
  });
});
