/**
 * Padding of NHWC image tensors to a multiple of a model's stride, and cropping back.
 * Padding goes on the bottom and right only, so pixel coordinates of the original image are
 * unchanged in the padded one (detections need no shift).
 */
import * as tf from '@tensorflow/tfjs-core';

/** How padded pixels are filled: mirror without repeating the edge (`reflect`), or repeat it. */
export type PadMode = 'reflect' | 'edge';

/** Smallest multiple of `stride` that is ≥ `n` (stride ≥ 1). */
export function roundUpToMultiple(n: number, stride: number): number {
  if (!(stride >= 1) || !Number.isInteger(stride)) throw new Error(`stride must be a positive integer, got ${stride}`);
  return Math.ceil(n / stride) * stride;
}

/** Least common multiple of strides, e.g. to pad once for two models. */
export function lcmStride(...strides: number[]): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  return strides.reduce((acc, s) => (acc * s) / gcd(acc, s), 1);
}

/** Repeats the last row/column `n` times along `axis` (1 = H, 2 = W). */
function edgeExtend(x: tf.Tensor4D, axis: 1 | 2, n: number): tf.Tensor4D {
  if (n === 0) return x;
  const size = x.shape[axis];
  const begin: [number, number, number, number] = [0, 0, 0, 0];
  const sliceSize: [number, number, number, number] = [-1, -1, -1, -1];
  begin[axis] = size - 1;
  sliceSize[axis] = 1;
  const last = tf.slice(x, begin, sliceSize);
  const reps: [number, number, number, number] = [1, 1, 1, 1];
  reps[axis] = n;
  return tf.concat([x, tf.tile(last, reps)], axis);
}

/**
 * Pads `x` [B,H,W,C] by `n` pixels on every side, repeating the edge (PyTorch's `replicate`).
 * Returns a new tensor; the caller disposes it, or runs this inside `tf.tidy`.
 */
export function edgePadAround(x: tf.Tensor4D, n: number): tf.Tensor4D {
  if (n === 0) return x.clone();
  // One pixel mirrored with the edge repeated is the edge repeated: one kernel (WASM has it
  // natively) instead of slices, reversals and concatenations of whole feature maps.
  if (n === 1 && x.shape[1] > 1 && x.shape[2] > 1) return tf.mirrorPad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], 'symmetric');
  return tf.tidy(() => {
    const flip = (t: tf.Tensor4D, axis: 1 | 2) => tf.reverse(t, axis) as tf.Tensor4D;
    // The far side by edgeExtend; the near side by the same on the reversed tensor.
    let y = flip(edgeExtend(flip(edgeExtend(x, 1, n), 1), 1, n), 1);
    y = flip(edgeExtend(flip(edgeExtend(y, 2, n), 2), 2, n), 2);
    return y;
  });
}

/**
 * Pads `x` [B,H,W,C] at the bottom and right so that H and W are multiples of `stride`.
 * `reflect` falls back to `edge` along an axis shorter than the pad needs (mirroring needs
 * pad < size). Returns `x` itself when nothing is needed; otherwise a new tensor (the caller
 * disposes it, or runs this inside `tf.tidy`). Differentiable.
 */
export function padToMultiple(x: tf.Tensor4D, stride: number, mode: PadMode = 'reflect'): tf.Tensor4D {
  const [, h, w] = x.shape;
  const ph = roundUpToMultiple(h, stride) - h;
  const pw = roundUpToMultiple(w, stride) - w;
  if (ph === 0 && pw === 0) return x;
  return tf.tidy(() => {
    if (mode === 'reflect' && ph < h && pw < w) {
      return tf.mirrorPad(x, [[0, 0], [0, ph], [0, pw], [0, 0]], 'reflect');
    }
    let y = x;
    y = mode === 'reflect' && ph < h ? tf.mirrorPad(y, [[0, 0], [0, ph], [0, 0], [0, 0]], 'reflect') : edgeExtend(y, 1, ph);
    y = mode === 'reflect' && pw < w ? tf.mirrorPad(y, [[0, 0], [0, 0], [0, pw], [0, 0]], 'reflect') : edgeExtend(y, 2, pw);
    return y;
  });
}

/**
 * Crops `x` [B,H',W',C] back to its top-left `height` x `width` (the inverse of
 * {@link padToMultiple}). Returns `x` itself when it already has that size.
 */
export function cropTo(x: tf.Tensor4D, height: number, width: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  if (height > h || width > w) throw new Error(`cropTo: ${height}x${width} is larger than the tensor (${h}x${w})`);
  if (h === height && w === width) return x;
  return tf.slice(x, [0, 0, 0, 0], [-1, height, width, -1]);
}
