import { describe, expect, it } from 'vitest';
import { fmtGrowth, fmtMs, fmtSi, formatTable, gmacPerSecond, median, planIterations, summarize } from './stats';

describe('bench stats', () => {
  it('median of odd, even and empty lists', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('summarize gives median, min and count without reordering the input', () => {
    const xs = [5, 1, 9, 3];
    expect(summarize(xs)).toEqual({ median: 4, min: 1, n: 4 });
    expect(xs).toEqual([5, 1, 9, 3]);
  });

  it('G MAC/s from MACs and milliseconds', () => {
    expect(gmacPerSecond(1e9, 1000)).toBeCloseTo(1);
    expect(gmacPerSecond(1.2e9, 200)).toBeCloseTo(6);
  });

  it('plans iterations within the budget but never below the minimum', () => {
    expect(planIterations(10, { minRuns: 5, target: 100, budgetMs: 60_000 })).toBe(100);
    expect(planIterations(1000, { minRuns: 5, target: 100, budgetMs: 60_000 })).toBe(60);
    expect(planIterations(30_000, { minRuns: 5, target: 100, budgetMs: 60_000 })).toBe(5);
  });

  it('formats numbers for the table', () => {
    expect(fmtMs(0.4213)).toBe('0.42');
    expect(fmtMs(12.34)).toBe('12.3');
    expect(fmtMs(1234.5)).toBe('1235');
    expect(fmtMs(undefined)).toBe('–');
    expect(fmtSi(1.1695e9)).toBe('1.17 G');
    expect(fmtSi(34_600_000)).toBe('34.6 M');
    expect(fmtGrowth(0)).toBe('0');
    expect(fmtGrowth(3)).toBe('+3');
    expect(fmtGrowth(-2)).toBe('−2');
  });

  it('pads columns and lets a short row span the rest of the line', () => {
    const t = formatTable(['a', 'bb', 'n'], [['x', 'yyy', '1'], ['long', 'n/a: a long reason']], ['left', 'left', 'right']);
    expect(t.split('\n')).toEqual([
      'a     bb   n',
      '----  ---  -',
      'x     yyy  1',
      'long  n/a: a long reason',
    ]);
  });
});
