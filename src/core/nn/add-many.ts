import * as tf from '@tensorflow/tfjs-core';

/**
 * The most inputs one `tf.addN` gets here. WebGPU's addN binds every input and its output as
 * storage buffers, and a compute stage may have 8 of them (the WebGPU default limit), so a
 * longer addN fails to build its pipeline and yields garbage on that backend.
 */
export const ADDN_MAX_INPUTS = 7;

/** Element-wise sum of any number of same-shaped tensors (`tf.addN` in groups of at most 7). */
export function addMany<T extends tf.Tensor>(ts: readonly T[]): T {
  if (ts.length === 0) throw new Error('addMany: no tensors to add');
  return tf.tidy(() => {
    let level: tf.Tensor[] = [...ts];
    do {
      const next: tf.Tensor[] = [];
      for (let i = 0; i < level.length; i += ADDN_MAX_INPUTS) next.push(tf.addN(level.slice(i, i + ADDN_MAX_INPUTS)));
      level = next;
    } while (level.length > 1);
    return level[0] as T;
  });
}
