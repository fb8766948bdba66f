/** The few layers the peers are built from, over named parameters (forward only). */
import * as tf from '@tensorflow/tfjs-core';
import type { PeerParams } from './types';

function weight(params: PeerParams, name: string): tf.Tensor {
  const t = params[name];
  if (!t) throw new Error(`peer: missing parameter '${name}'`);
  return t;
}

/**
 * Convolution `name` (stride 1). `same` pads with zeros as PyTorch's `padding=k//2` does; `valid`
 * is for input the caller padded itself. Adds `${name}/bias` when the layer has one.
 */
export function conv(params: PeerParams, name: string, x: tf.Tensor4D, padding: 'same' | 'valid' = 'same', bias = true): tf.Tensor4D {
  const y = tf.conv2d(x, weight(params, `${name}/kernel`) as tf.Tensor4D, 1, padding);
  return bias ? tf.add(y, weight(params, `${name}/bias`)) : y;
}

/** Depthwise convolution `name` without bias, zero `same` padding (PyTorch's `groups=channels`). */
export function depthwise(params: PeerParams, name: string, x: tf.Tensor4D): tf.Tensor4D {
  const k = weight(params, `${name}/kernel`);
  const [h, w, , c] = k.shape;
  // Stored as [k,k,1,C] (a grouped conv's layout); tfjs wants [k,k,C,1]: the same values in order.
  return tf.depthwiseConv2d(x, tf.reshape(k, [h, w, c, 1]) as tf.Tensor4D, 1, 'same');
}

/** float32 values to 8 bits the way NumPy's `astype(uint8)` does after clipping to [0,255]: truncated. */
export function truncate8(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
}
