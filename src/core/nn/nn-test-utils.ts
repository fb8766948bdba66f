/** Helpers shared by the tests of the trainable ops in `nn/` (not used by the app). */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from './random';

/** max |a − b| / max |b|: one number per tensor, the tolerance the ops' tests state (1e-5). */
export function relErr(a: Float32Array | number[], b: Float32Array | number[]): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-30);
}

/** A tensor of N(0, std²) draws. */
export function randn(rng: Rng, shape: number[], std = 1): tf.Tensor {
  return tf.tensor(rng.normalArray(shape.reduce((a, b) => a * b, 1), 0, std), shape);
}
