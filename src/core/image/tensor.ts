/**
 * Planes (row-major Float32Arrays in [0, 1]) <-> NHWC tensors. Reads go through
 * `await t.data()` (on WebGPU `dataSync()` of large tensors can read zeros).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RawImage } from '../types';
import { imageToY } from './color';

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
