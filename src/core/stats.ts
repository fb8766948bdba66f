/** Small statistics shared by the core's users (the bench's timings, the worker's step times). */

/** Median of `xs` (mean of the two middle values for an even count). NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
