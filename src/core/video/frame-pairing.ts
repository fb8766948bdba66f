/**
 * Pairing the frames of an infrared and a visible video by timestamp.
 *
 * The two streams may differ in frame rate and length and start at an offset: a visible frame
 * at time `tv` shows the instant of an infrared frame at `ti` when `tv = ti + offset`. The
 * paired stream follows whichever stream has fewer frames where both run (so no frame is shown
 * twice), each matched to the nearest frame of the other one. Times are in seconds.
 */

/** One frame of the paired stream. */
export interface FramePair {
  /** Position in the paired stream (0, 1, …). */
  index: number;
  /** Time on the paired stream's clock: 0 at its first frame. */
  time: number;
  /** Timestamps of the two frames in their own files. */
  ir: number;
  vi: number;
}

/** Index of the timestamp nearest to `t` in ascending `times` (earlier one on a tie). */
export function nearestIndex(times: readonly number[], t: number): number {
  let lo = 0, hi = times.length - 1;
  if (hi < 0) return -1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && t - times[lo - 1] <= times[lo] - t ? lo - 1 : lo;
}

/** The frame period of a stream: the median gap between timestamps (1/30 s for one frame). */
export function framePeriod(times: readonly number[]): number {
  if (times.length < 2) return 1 / 30;
  const gaps = times.slice(1).map((t, i) => t - times[i]).sort((a, b) => a - b);
  return gaps[gaps.length >> 1] || 1 / 30;
}

/**
 * Pairs two streams' frames.
 * @param irTimes,viTimes presentation timestamps, ascending.
 * @param offset seconds the visible stream is ahead (its time of the infrared's time 0).
 * @returns the paired frames; empty when the streams do not overlap.
 */
export function pairFrames(irTimes: readonly number[], viTimes: readonly number[], offset = 0): FramePair[] {
  if (!irTimes.length || !viTimes.length) return [];
  // Both on the infrared clock; a stream covers [first, last + one period).
  const vi = viTimes.map((t) => t - offset);
  const end = (ts: readonly number[]) => ts[ts.length - 1] + framePeriod(ts);
  const from = Math.max(irTimes[0], vi[0]);
  const to = Math.min(end(irTimes), end(vi));
  const within = (ts: readonly number[]) => ts.filter((t) => t >= from - 1e-9 && t < to - 1e-9);
  const irIn = within(irTimes);
  const viIn = within(vi);
  if (!irIn.length || !viIn.length) return [];
  const baseIsIr = irIn.length <= viIn.length;
  const base = baseIsIr ? irIn : viIn;
  const other = baseIsIr ? vi : irTimes;
  return base.map((t, index) => {
    const o = other[nearestIndex(other, t)];
    const [ti, tv] = baseIsIr ? [t, o] : [o, t];
    return { index, time: t - base[0], ir: ti, vi: tv + offset };
  });
}

/** The frame shown at `time` on the paired clock: the last one that has started. */
export function frameAt(frames: readonly FramePair[], time: number): FramePair | undefined {
  if (!frames.length) return undefined;
  let lo = 0, hi = frames.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (frames[mid].time <= time + 1e-9) lo = mid;
    else hi = mid - 1;
  }
  return frames[lo];
}

/**
 * `n` frames spread evenly over a stream of `count` (each the middle of its share, so the first
 * and last seconds, often a fade or a static start, weigh no more than the rest); all of them
 * when `n >= count`.
 */
export function sampleFrames(count: number, n: number): number[] {
  const k = Math.max(0, Math.min(Math.floor(n), count));
  return Array.from({ length: k }, (_, i) => Math.floor(((i + 0.5) * count) / k));
}
