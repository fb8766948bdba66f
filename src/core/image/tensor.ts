/**
 * Planes (row-major Float32Arrays in [0, 1]) <-> NHWC tensors. Reads go through
 * `await t.data()` (on WebGPU `dataSync()` of large tensors can read zeros).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RawImage } from '../types';
import { NEUTRAL_CHROMA, imageToY } from './color';
import { webgpuPrograms } from '../nn/webgpu-programs';
import { fusedRgbWebgpu } from './tensor-webgpu';

/** One plane of `height * width` values as a `[1, height, width, 1]` float32 tensor. */
export function planeToTensor(plane: Float32Array, height: number, width: number): tf.Tensor4D {
  if (plane.length !== height * width) throw new Error(`plane has ${plane.length} values, ${height}x${width} needs ${height * width}`);
  return tf.tensor4d(plane, [1, height, width, 1], 'float32');
}

/**
 * Stacks planes as channels: `[1, height, width, planes.length]` float32 (e.g. `[IR, Y_vis]`
 * for the fusion network). Interleaves in JS, which is cheaper than a tensor concat.
 */
export function planesToTensor(planes: Float32Array[], height: number, width: number): tf.Tensor4D {
  const n = height * width;
  const c = planes.length;
  for (const p of planes) if (p.length !== n) throw new Error(`plane has ${p.length} values, ${height}x${width} needs ${n}`);
  if (c === 1) return planeToTensor(planes[0], height, width);
  const data = new Float32Array(n * c);
  for (let k = 0; k < c; k++) {
    const p = planes[k];
    for (let i = 0, o = k; i < n; i++, o += c) data[o] = p[i];
  }
  return tf.tensor4d(data, [1, height, width, c], 'float32');
}

/** BT.601 chroma → RGB rows (Cb, Cr) of the inverse transform (as `mergeYCbCr`). */
const CHROMA_TO_RGB = [[0, -0.344136, 1.772], [1.402, -0.714136, 0]];

/**
 * Rows per chroma matmul in `fusedRgb`. tfjs's WebGPU matmul dispatches a workgroup per 32 rows,
 * at most 65,535 in one dimension: 2.1 M rows, which a 2048×1536 image or a training batch of
 * 12 crops of 384² passes.
 */
const RGB_ROWS_PER_MATMUL = 1 << 20;

/**
 * The fused image in colour, as S sees it and the app shows it: F's Y with the visible image's
 * Cb/Cr (BT.601, as `mergeYCbCr`), clipped to [0,1]. Differentiable in `y`, so a task loss on S
 * reaches F. Without chroma (grey visible images) it is Y in all three channels.
 * @param y `[B,H,W,1]` in [0,1]; @param chroma `[B,H,W,2]` (Cb, Cr) in [0,1], or null.
 * @returns `[B,H,W,3]`, owned by the caller.
 */
export function fusedRgb(y: tf.Tensor4D, chroma: tf.Tensor4D | null): tf.Tensor4D {
  if (chroma && webgpuPrograms()) return fusedRgbWebgpu(y, chroma, CHROMA_TO_RGB, NEUTRAL_CHROMA);
  return tf.tidy(() => {
    const grey = tf.mul(y, tf.ones([1, 1, 1, 3]));
    if (!chroma) return grey as tf.Tensor4D;
    const [b, h, w] = chroma.shape;
    const n = b * h * w;
    // [N,2]×[2,3] matmuls (broadcast products run 7× slower on WASM), at most
    // RGB_ROWS_PER_MATMUL rows each: WebGPU's matmul fails past 2.1 M rows.
    const c = tf.reshape(tf.sub(chroma, NEUTRAL_CHROMA), [n, 2]);
    const m = tf.tensor2d(CHROMA_TO_RGB);
    const parts: tf.Tensor2D[] = [];
    for (let i = 0; i < n; i += RGB_ROWS_PER_MATMUL) {
      parts.push(tf.matMul(n <= RGB_ROWS_PER_MATMUL ? c : tf.slice(c, [i, 0], [Math.min(RGB_ROWS_PER_MATMUL, n - i), 2]), m));
    }
    const delta = tf.reshape(parts.length === 1 ? parts[0] : tf.concat(parts, 0), [b, h, w, 3]);
    return tf.clipByValue(tf.add(grey, delta), 0, 1) as tf.Tensor4D;
  });
}

/** Luma of an image as a `[1, H, W, 1]` tensor in [0, 1] (see `imageToY`). */
export function imageToYTensor(img: RawImage): tf.Tensor4D {
  return planeToTensor(imageToY(img), img.height, img.width);
}

/** Reads a single-channel tensor (`[1,H,W,1]`, `[H,W,1]` or `[H,W]`) as a Float32Array plane. */
export async function tensorToPlane(t: tf.Tensor): Promise<Float32Array> {
  const d = await t.data();
  return d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>);
}

/**
 * Class index per pixel (argmax over the last axis) of logits `[1, H, W, K]`, as a Uint8Array
 * of length H*W. The argmax runs on the backend; only the indices are read back.
 */
export async function logitsToLabels(logits: tf.Tensor4D): Promise<Uint8Array> {
  const idx = tf.argMax(logits, 3);
  try {
    const d = await idx.data();
    return Uint8Array.from(d as ArrayLike<number>);
  } finally {
    idx.dispose();
  }
}
