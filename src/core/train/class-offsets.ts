/**
 * Per-class offsets on S's segmentation logits, chosen on held-out pairs to maximise mIoU.
 *
 * S's cross-entropy is class-weighted (rare classes count up to 6× per pixel), which moves its
 * decisions towards the weighted classes: on the held-out MSRS pairs it painted car, person and
 * bike beyond their outlines. An offset per class, added to the logits before the argmax, undoes
 * that without retraining, and folds exactly into the bias of S's last segmentation layer (the
 * bilinear upsampling after it keeps constants). Framework-free, so the CLI and tests share it.
 */
import { createConfusionMatrix, segmentationScores, type SegmentationScores } from '../metrics/task-metrics';

/** Logits `[n·C]` (pixel-major) and labels `[n]` of the pixels of one image (any subsample). */
export interface LogitSample {
  logits: Float32Array;
  labels: ArrayLike<number>;
}

/** Segmentation scores of the argmax of `logits + offsets` over all samples' pixels. */
export function scoresWithOffsets(samples: readonly LogitSample[], offsets: readonly number[]): SegmentationScores {
  const c = offsets.length;
  const conf = createConfusionMatrix(c);
  for (const s of samples) {
    const z = s.logits, g = s.labels;
    if (z.length !== g.length * c) throw new Error(`scoresWithOffsets: ${z.length} logits for ${g.length} labels of ${c} classes`);
    for (let p = 0; p < g.length; p++) {
      const gt = g[p];
      if (!(gt >= 0 && gt < c)) continue; // ignore label
      let best = 0, bv = -Infinity;
      for (let k = 0; k < c; k++) {
        const v = z[p * c + k] + offsets[k];
        if (v > bv) { bv = v; best = k; }
      }
      conf.counts[gt * c + best]++;
    }
  }
  return segmentationScores(conf);
}

/** Options of {@link fitClassOffsets}. */
export interface FitOffsetsOptions {
  /** Passes over the classes (default 3). */
  rounds?: number;
  /** Steps tried for each class in each pass (default ±0.25 … ±2 and +3). */
  steps?: readonly number[];
  /** Largest |offset| (default 3). */
  limit?: number;
}

/**
 * Coordinate ascent on mIoU: class by class, the step that raises mIoU most is taken. Class 0
 * stays at 0 (only differences between logits matter), and so does every class absent from
 * the samples' labels: its IoU is not scored there, so lowering it would only ever look better
 * and would erase it everywhere else.
 */
export function fitClassOffsets(samples: readonly LogitSample[], numClasses: number, opts: FitOffsetsOptions = {}): number[] {
  const steps = opts.steps ?? [-2, -1.5, -1, -0.5, -0.25, 0.25, 0.5, 1, 1.5, 2, 3];
  const limit = opts.limit ?? 3;
  const offsets = new Array<number>(numClasses).fill(0);
  const present = scoresWithOffsets(samples, offsets).perClassIoU.map((x) => x !== null);
  let best = scoresWithOffsets(samples, offsets).mIoU;
  for (let round = 0; round < (opts.rounds ?? 3); round++) {
    let moved = false;
    for (let k = 1; k < numClasses; k++) {
      if (!present[k]) continue;
      let bestStep = 0;
      for (const d of steps) {
        const v = offsets[k] + d;
        if (Math.abs(v) > limit) continue;
        const trial = offsets.slice();
        trial[k] = v;
        const m = scoresWithOffsets(samples, trial).mIoU;
        if (m > best + 1e-6) { best = m; bestStep = d; }
      }
      if (bestStep !== 0) { offsets[k] += bestStep; moved = true; }
    }
    if (!moved) break;
  }
  return offsets;
}
