/**
 * Batches of random crops for training, on plain typed arrays so the same sampler serves the
 * Node training pipeline and the browser fine-tuning worker.
 */
import type { GroundTruthBox } from '../types';
import type { Rng } from '../nn/random';
import { cropBoxes, flipBoxesHorizontal } from '../detect/boxes';

/** One training pair in memory: IR and visible Y planes in [0,1], optional labels and boxes. */
export interface TrainPair {
  stem: string;
  width: number;
  height: number;
  ir: Float32Array;
  vi: Float32Array;
  /**
   * The visible image's (Cb, Cr) in [0,1], interleaved `[h·w·2]`, for colour visible images:
   * S sees the fused Y in the visible image's colours.
   */
  chroma?: Float32Array;
  /** Fused Y plane in [0,1], when the pair has been fused already (S is trained on it). */
  fused?: Float32Array;
  /** MSRS class index per pixel (0..8). */
  label?: Uint8Array;
  /** Ground-truth boxes in pixels. */
  boxes?: GroundTruthBox[];
}

/** A batch in NHWC order, ready for `tf.tensor4d(x, [batch, crop, crop, channels])`. */
export interface CropBatch {
  batch: number;
  height: number;
  width: number;
  /** [B,h,w,2] = (IR, Y_vis). */
  irvi: Float32Array;
  /** [B,h,w,2] visible (Cb, Cr), present when every pair has `chroma`. */
  chroma?: Float32Array;
  /** [B,h,w,1], present when every pair has `fused`. */
  fused?: Float32Array;
  /** [B,h,w] class indices, present when every pair has `label`. */
  label?: Uint8Array;
  /** Boxes per batch item in crop coordinates, present when every pair has `boxes`. */
  boxes?: GroundTruthBox[][];
}

export interface CropOptions {
  batch: number;
  /** Crop height and width in pixels; a crop larger than an image is clamped to the image. */
  cropHeight: number;
  cropWidth: number;
  /** Random horizontal flips (default true). */
  flip?: boolean;
  /** Subset of pair indices to draw from (default all). */
  indices?: number[];
  /** Minimum visible fraction for a box cut by the crop to be kept (default 0.4). */
  minBoxVisible?: number;
}

/**
 * Draws `batch` random crops (pair chosen uniformly, position uniform, optional flip).
 * All pairs must be at least crop-sized; crops are clamped to the smallest drawn image.
 */
export function sampleCrops(pairs: TrainPair[], opts: CropOptions, rng: Rng): CropBatch {
  const pool = opts.indices ?? pairs.map((_, i) => i);
  if (pool.length === 0) throw new Error('sampleCrops: no pairs to sample from');
  const chosen = Array.from({ length: opts.batch }, () => pairs[pool[rng.int(pool.length)]]);
  const h = Math.min(opts.cropHeight, ...chosen.map((p) => p.height));
  const w = Math.min(opts.cropWidth, ...chosen.map((p) => p.width));
  const n = h * w;
  const out: CropBatch = {
    batch: opts.batch, height: h, width: w,
    irvi: new Float32Array(opts.batch * n * 2),
    chroma: chosen.every((p) => p.chroma) ? new Float32Array(opts.batch * n * 2) : undefined,
    fused: chosen.every((p) => p.fused) ? new Float32Array(opts.batch * n) : undefined,
    label: chosen.every((p) => p.label) ? new Uint8Array(opts.batch * n) : undefined,
    boxes: chosen.every((p) => p.boxes) ? [] : undefined,
  };
  const minVisible = opts.minBoxVisible ?? 0.4;
  chosen.forEach((p, b) => {
    const y0 = rng.int(p.height - h + 1);
    const x0 = rng.int(p.width - w + 1);
    const flip = (opts.flip ?? true) && rng.bool();
    for (let y = 0; y < h; y++) {
      const src = (y0 + y) * p.width + x0;
      const dst = b * n + y * w;
      for (let x = 0; x < w; x++) {
        const s = src + (flip ? w - 1 - x : x);
        const d = dst + x;
        out.irvi[2 * d] = p.ir[s];
        out.irvi[2 * d + 1] = p.vi[s];
        if (out.chroma) {
          out.chroma[2 * d] = p.chroma![2 * s];
          out.chroma[2 * d + 1] = p.chroma![2 * s + 1];
        }
        if (out.fused) out.fused[d] = p.fused![s];
        if (out.label) out.label[d] = p.label![s];
      }
    }
    if (out.boxes) {
      const inside = cropBoxes(p.boxes!, x0, y0, w, h, minVisible);
      out.boxes.push(flip ? flipBoxesHorizontal(inside, w) : inside);
    }
  });
  return out;
}
