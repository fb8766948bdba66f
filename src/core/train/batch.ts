/**
 * Batches of random crops for training, on plain typed arrays so the same sampler serves the
 * Node training pipeline and the browser fine-tuning worker.
 */
import type { GroundTruthBox } from '../types';
import type { Rng } from '../nn/random';
import { cropBoxes, flipBoxesHorizontal, scaleBoxes } from '../detect/boxes';
import { resizeLabels } from '../image/resize';

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
  /**
   * Rare-class sampling: this share of the crops is drawn around a pixel of one of `classes`
   * (class uniform among those the pool has, then a pair that has it, then one of its pixels,
   * placed anywhere in the crop). Uniform crops of MSRS almost never hold a guardrail or a
   * bump, so S saw too few of them to learn them at all.
   */
  focus?: { classes: readonly number[]; share: number };
}

/** Pixel indices of each label class in a pair, computed once per pair. */
const classPixelCache = new WeakMap<Uint8Array, Map<number, Int32Array>>();

function classPixels(label: Uint8Array): Map<number, Int32Array> {
  let m = classPixelCache.get(label);
  if (m) return m;
  const counts = new Map<number, number>();
  for (const v of label) counts.set(v, (counts.get(v) ?? 0) + 1);
  m = new Map([...counts].map(([c, n]) => [c, new Int32Array(n)]));
  const fill = new Map<number, number>();
  label.forEach((v, i) => {
    const k = fill.get(v) ?? 0;
    m!.get(v)![k] = i;
    fill.set(v, k + 1);
  });
  classPixelCache.set(label, m);
  return m;
}

/** A drawn pair with the pixel (y, x) a focus crop must hold, if any. */
interface Draw { pair: TrainPair; at?: { y: number; x: number } }

function drawPairs(pairs: TrainPair[], pool: number[], opts: CropOptions, rng: Rng): Draw[] {
  const focus = opts.focus;
  const byClass = focus
    ? focus.classes
      .map((c) => pool.filter((i) => pairs[i].label && classPixels(pairs[i].label!).has(c)).map((i) => ({ c, i })))
      .filter((xs) => xs.length > 0)
    : [];
  return Array.from({ length: opts.batch }, () => {
    // The uniform path draws exactly as it did before focus existed (seeded runs repeat).
    if (!focus || focus.share <= 0 || byClass.length === 0 || rng.uniform() >= focus.share) return { pair: pairs[pool[rng.int(pool.length)]] };
    const { c, i } = rng.pick(rng.pick(byClass));
    const pair = pairs[i];
    const px = classPixels(pair.label!).get(c)!;
    const k = px[rng.int(px.length)];
    return { pair, at: { y: Math.floor(k / pair.width), x: k % pair.width } };
  });
}

/** A crop origin along one axis: uniform, or uniform among those that keep `at` inside. */
function cropOrigin(size: number, crop: number, rng: Rng, at?: number): number {
  if (at === undefined) return rng.int(size - crop + 1);
  const lo = Math.max(0, at - crop + 1), hi = Math.min(size - crop, at);
  return lo + rng.int(hi - lo + 1);
}

/**
 * Draws `batch` random crops (pair chosen uniformly, position uniform, optional flip; or around
 * a rare class's pixel, see `focus`). Crops are clamped to the smallest drawn image.
 */
export function sampleCrops(pairs: TrainPair[], opts: CropOptions, rng: Rng): CropBatch {
  const pool = opts.indices ?? pairs.map((_, i) => i);
  if (pool.length === 0) throw new Error('sampleCrops: no pairs to sample from');
  const draws = drawPairs(pairs, pool, opts, rng);
  const chosen = draws.map((d) => d.pair);
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
    const at = draws[b].at;
    const y0 = cropOrigin(p.height, h, rng, at?.y);
    const x0 = cropOrigin(p.width, w, rng, at?.x);
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

/**
 * A crop batch resized to `height`×`width`: images bilinear (half-pixel centres, as
 * tf.image.resizeBilinear), labels nearest, boxes scaled. Used to show the same crops at another
 * scale; a whole-factor shrink averages each block's pixels exactly.
 */
export function resizeCropBatch(b: CropBatch, height: number, width: number): CropBatch {
  const { batch: n, height: h, width: w } = b;
  const sy = h / height, sx = w / width;
  const plane = (src: Float32Array, channels: number): Float32Array => {
    const out = new Float32Array(n * height * width * channels);
    for (let i = 0; i < n; i++) {
      for (let y = 0; y < height; y++) {
        const fy = Math.min(h - 1, Math.max(0, (y + 0.5) * sy - 0.5));
        const y0 = Math.floor(fy), y1 = Math.min(h - 1, y0 + 1), wy = fy - y0;
        for (let x = 0; x < width; x++) {
          const fx = Math.min(w - 1, Math.max(0, (x + 0.5) * sx - 0.5));
          const x0 = Math.floor(fx), x1 = Math.min(w - 1, x0 + 1), wx = fx - x0;
          for (let c = 0; c < channels; c++) {
            const at = (yy: number, xx: number) => src[((i * h + yy) * w + xx) * channels + c];
            out[((i * height + y) * width + x) * channels + c] =
              (1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x1)) + wy * ((1 - wx) * at(y1, x0) + wx * at(y1, x1));
          }
        }
      }
    }
    return out;
  };
  let label: Uint8Array | undefined;
  if (b.label) {
    label = new Uint8Array(n * height * width);
    for (let i = 0; i < n; i++) label.set(resizeLabels(b.label.subarray(i * h * w, (i + 1) * h * w), w, h, width, height), i * height * width);
  }
  return {
    batch: n, height, width,
    irvi: plane(b.irvi, 2),
    chroma: b.chroma && plane(b.chroma, 2),
    fused: b.fused && plane(b.fused, 1),
    label,
    boxes: b.boxes?.map((bs) => scaleBoxes(bs, 1 / sx, 1 / sy)),
  };
}
