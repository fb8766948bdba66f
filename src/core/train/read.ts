import * as tf from '@tensorflow/tfjs-core';

/**
 * Reads scalars in one GPU→CPU transfer (each read stalls the GPU queue: a step makes one).
 * Awaits the backend, so it is safe on WebGPU.
 */
export async function readScalars(values: Record<string, tf.Scalar>): Promise<Record<string, number>> {
  const names = Object.keys(values);
  if (names.length === 0) return {};
  const packed = tf.tidy(() => tf.stack(names.map((k) => tf.reshape(values[k], []))));
  try {
    const data = await packed.data();
    return Object.fromEntries(names.map((k, i) => [k, data[i]]));
  } finally {
    packed.dispose();
  }
}
