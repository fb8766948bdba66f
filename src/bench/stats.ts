/**
 * Pure helpers of the benchmark: timing statistics, throughput, and a plain-text table.
 * No tfjs here, so they are unit-tested without a backend.
 */

import { median } from '../core/stats';

export { median };

/** Summary of warm timings in milliseconds. */
export interface TimingSummary {
  median: number;
  min: number;
  /** Number of warm runs summarised. */
  n: number;
}

/** Median, minimum and count of `ms`. */
export function summarize(ms: readonly number[]): TimingSummary {
  return { median: median(ms), min: ms.length ? Math.min(...ms) : NaN, n: ms.length };
}

/** Achieved G multiply-adds per second for `macs` done in `ms` milliseconds. */
export function gmacPerSecond(macs: number, ms: number): number {
  return ms > 0 ? macs / ms / 1e6 : NaN;
}

/**
 * How many warm iterations to run: enough for the leak check (`target`), but cut down to fit
 * `budgetMs` at the measured speed, never below `minRuns` (the timing statistics need them).
 */
export function planIterations(firstWarmMs: number, opts: { minRuns: number; target: number; budgetMs: number }): number {
  const fit = firstWarmMs > 0 ? Math.floor(opts.budgetMs / firstWarmMs) : opts.target;
  return Math.max(opts.minRuns, Math.min(opts.target, fit));
}

/** Milliseconds with a precision that suits their size ("0.42", "12.3", "1234"). */
export function fmtMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return ms.toFixed(0);
}

/** A count with an SI suffix: 1.17 G, 34.6 M, 912 k. */
export function fmtSi(x: number | undefined, digits = 3): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  const [div, suf] = a >= 1e9 ? [1e9, ' G'] : a >= 1e6 ? [1e6, ' M'] : a >= 1e3 ? [1e3, ' k'] : [1, ''];
  return `${Number((x / div).toPrecision(digits))}${suf}`;
}

/** A signed growth: "0", "+3", "−1024". */
export function fmtGrowth(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  if (x === 0) return '0';
  return x > 0 ? `+${x}` : `−${-x}`;
}

/** Column alignment of {@link formatTable}. */
export type Align = 'left' | 'right';

/**
 * A plain-text table: a header row, a rule, then the rows; columns padded to their widest cell.
 * In a row with fewer cells than the header, the last cell spans the rest of the line: it is
 * printed as-is and does not widen its column (for explanations such as "n/a: why").
 */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const len = (s: string): number => [...s].length;
  const spans = (r: readonly string[], i: number): boolean => r.length < header.length && i === r.length - 1;
  const widths = header.map((h, i) => Math.max(len(h), ...rows.map((r) => (i < r.length && !spans(r, i) ? len(r[i]) : 0))));
  const pad = (s: string, i: number): string => {
    const fill = ' '.repeat(Math.max(0, widths[i] - len(s)));
    return align[i] === 'right' ? fill + s : s + fill;
  };
  const line = (r: readonly string[]): string =>
    r.map((c, i) => (spans(r, i) ? c : pad(c, i))).join('  ').trimEnd();
  const full = (r: readonly string[]): readonly string[] => (r.length < header.length ? r : header.map((_, i) => r[i] ?? ''));
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => line(full(r)))].join('\n');
}
