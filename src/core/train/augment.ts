/**
 * Augmentation for training S on fused images: which image S sees (the fused image, or the
 * infrared or visible image alone, so S stays useful on whatever F makes of a pair), photometric
 * jitter, and scale. Works on a crop batch already drawn by `sampleCrops`; seeded by the step's
 * Rng. No gradient flows through any of it (it prepares inputs).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GroundTruthBox } from '../types';
import type { CropBatch } from './batch';
import type { Rng } from '../nn/random';
import { fusedRgb } from '../image/tensor';
import { NEUTRAL_CHROMA } from '../image/color';
import { scaleBoxes } from '../detect/boxes';

/** Options of {@link augmentTaskBatch}. */
export interface TaskAugmentOptions {
  /** Output crop side in pixels (the batch is resized to it). */
  crop: number;
  /** Probabilities that an item shows the infrared alone or the visible image alone (default 0.15 each). */
  irOnly?: number;
  viOnly?: number;
  /** Gain and offset ranges of the luma jitter (default ±25 %, ±0.08). */
  gain?: number;
  offset?: number;
}

/** An augmented batch as S's input and targets (tensors owned by the caller). */
export interface AugmentedTaskBatch {
  /** `[B,crop,crop,3]` RGB in [0,1]. */
  rgb: tf.Tensor4D;
  /** `[B,crop,crop]` int32 class indices, when the batch has labels. */
  labels: tf.Tensor3D | null;
  /** Boxes per item in output pixels, when the batch has boxes. */
  boxes: GroundTruthBox[][] | null;
}

/**
 * The source side to draw crops at for scale s (output `crop`): drawing `crop / s` px and
 * resizing to `crop` magnifies by s. On a 16-px grid: tfjs's WebGPU backend keeps every freed
 * buffer for reuse at its size and never frees it, so each new side added buffers for good
 * (three of four GPU trainers ran out of 139 GiB at step 110).
 */
export function cropSideForScale(crop: number, s: number): number {
  return 16 * Math.round(crop / s / 16);
}

/** {@link cropSideForScale} for a random scale in [lo, hi], capped at `maxSide` (the image size). */
export function scaledCropSide(crop: number, rng: Rng, maxSide: number, lo = 0.75, hi = 1.5): number {
  const s = Math.exp(rng.uniform(Math.log(lo), Math.log(hi)));
  return Math.max(32, Math.min(maxSide, cropSideForScale(crop, s)));
}

/**
 * Builds S's input from a crop batch that has `fused` (and `chroma` for colour pairs): per item
 * the fused Y, or IR or visible Y alone (IR shown grey), with a random gain/offset, in the
 * visible colours, resized to `crop`×`crop` (labels by nearest neighbour, boxes scaled).
 */
export function augmentTaskBatch(b: CropBatch, o: TaskAugmentOptions, rng: Rng): AugmentedTaskBatch {
  if (!b.fused) throw new Error('augmentTaskBatch: the batch has no fused images');
  const { batch: n, height: h, width: w } = b;
  const pIr = o.irOnly ?? 0.15, pVi = o.viOnly ?? 0.15;
  const gainR = o.gain ?? 0.25, offR = o.offset ?? 0.08;
  // Per item: weights of (fused, IR, VI), whether its chroma is kept, gain and offset.
  const mix = new Float32Array(n * 3);
  const keepChroma = new Float32Array(n);
  const gain = new Float32Array(n);
  const off = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    const src = u < pIr ? 1 : u < pIr + pVi ? 2 : 0;
    mix[3 * i + src] = 1;
    keepChroma[i] = src === 1 ? 0 : 1;
    gain[i] = rng.uniform(1 - gainR, 1 + gainR);
    off[i] = rng.uniform(-offR, offR);
  }
  const sx = o.crop / w, sy = o.crop / h;
  const rgb = tf.tidy(() => {
    const irvi = tf.tensor4d(b.irvi, [n, h, w, 2]);
    const fused = tf.tensor4d(b.fused!, [n, h, w, 1]);
    const sources = tf.concat([fused, irvi], 3); // (fused, IR, VI)
    const y0 = tf.sum(tf.mul(sources, tf.tensor4d(mix, [n, 1, 1, 3])), 3, true);
    const y = tf.clipByValue(tf.add(tf.mul(y0, tf.tensor4d(gain, [n, 1, 1, 1])), tf.tensor4d(off, [n, 1, 1, 1])), 0, 1) as tf.Tensor4D;
    let chroma: tf.Tensor4D | null = null;
    if (b.chroma) {
      // IR-only items get neutral chroma (grey): (c − n)·0 + n.
      const c = tf.tensor4d(b.chroma, [n, h, w, 2]);
      chroma = tf.add(tf.mul(tf.sub(c, NEUTRAL_CHROMA), tf.tensor4d(keepChroma, [n, 1, 1, 1])), NEUTRAL_CHROMA) as tf.Tensor4D;
    }
    const img = fusedRgb(y, chroma);
    return h === o.crop && w === o.crop ? img : tf.image.resizeBilinear(img, [o.crop, o.crop], false, true);
  });
  const labels = b.label
    ? tf.tidy(() => {
      const l = tf.tensor4d(Float32Array.from(b.label!), [n, h, w, 1]);
      const r = h === o.crop && w === o.crop ? l : tf.image.resizeNearestNeighbor(l, [o.crop, o.crop], false, true);
      return tf.cast(tf.reshape(r, [n, o.crop, o.crop]), 'int32') as tf.Tensor3D;
    })
    : null;
  const boxes = b.boxes ? b.boxes.map((bs) => scaleBoxes(bs, sx, sy)) : null;
  return { rgb, labels, boxes };
}
