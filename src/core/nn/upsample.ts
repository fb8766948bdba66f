/**
 * Differentiable upsampling built from reshape, broadcasting, slicing and concatenation, whose
 * gradients every backend (WASM and WebGPU included) computes the same way.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Nearest-neighbour upsampling by an integer factor, by broadcasting.
 * @param x [B,h,w,C]
 * @returns [B, h·f, w·f, C], owned by the caller.
 */
export function upsampleNearest(x: tf.Tensor4D, f: number): tf.Tensor4D {
  if (f === 1) return x.clone();
  const [b, h, w, c] = x.shape;
  return tf.tidy(() => {
    const big = tf.mul(tf.reshape(x, [b, h, 1, w, 1, c]), tf.ones([1, 1, f, 1, f, 1]));
    return tf.reshape(big, [b, h * f, w * f, c]);
  });
}

/**
 * `high + upsampleNearest(low, f)` without materialising the upsampled tensor: `high` is
 * viewed as [B,h,f,w,f,C] and `low` is broadcast over the two f axes.
 * @param low [B,h,w,C]; @param high [B,h·f,w·f,C] with the same C.
 * @returns [B,h·f,w·f,C], owned by the caller.
 */
export function upsampleAdd(low: tf.Tensor4D, high: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = low.shape;
  const [, H, W, C] = high.shape;
  const f = H / h;
  if (!Number.isInteger(f) || W / w !== f || C !== c || high.shape[0] !== b) {
    throw new Error(`upsampleAdd: cannot add [${low.shape}] upsampled to [${high.shape}]`);
  }
  return tf.tidy(() => {
    const s = tf.add(tf.reshape(high, [b, h, f, w, f, c]), tf.reshape(low, [b, h, 1, w, 1, c]));
    return tf.reshape(s, [b, H, W, c]);
  });
}

/** Upsamples axis 1 or 2 by f with half-pixel-centred linear interpolation, edges clamped. */
function linearAxis(x: tf.Tensor4D, axis: 1 | 2, f: number): tf.Tensor4D {
  const n = x.shape[axis];
  const shape = x.shape.slice() as [number, number, number, number];
  const sliceAlong = (t: tf.Tensor4D, start: number, size: number): tf.Tensor4D => {
    const begin = [0, 0, 0, 0];
    const sz = t.shape.slice() as number[];
    begin[axis] = start;
    sz[axis] = size;
    return tf.slice(t, begin, sz);
  };
  // Replicate the edge rows: TF's half-pixel bilinear clamps source coordinates to the edge.
  const xp = tf.concat([sliceAlong(x, 0, 1), x, sliceAlong(x, n - 1, 1)], axis);
  const prev = sliceAlong(xp, 0, n);
  const next = sliceAlong(xp, 2, n);
  const phases: tf.Tensor[] = [];
  for (let p = 0; p < f; p++) {
    // Output index i·f + p sits at source coordinate i + (p + 0.5) / f − 0.5.
    const off = (p + 0.5) / f - 0.5;
    phases.push(off < 0
      ? tf.add(tf.mul(prev, -off), tf.mul(x, 1 + off))
      : tf.add(tf.mul(x, 1 - off), tf.mul(next, off)));
  }
  const stacked = tf.stack(phases, axis + 1); // phase axis right after `axis`
  shape[axis] = n * f;
  return tf.reshape(stacked, shape) as tf.Tensor4D;
}

/**
 * Bilinear upsampling by an integer factor with half-pixel centres — the same numbers as
 * `tf.image.resizeBilinear(x, [h·f, w·f], false, true)` — from slice/concat/stack/reshape only,
 * so its gradient is exact on every backend. (tfjs 4.22's ResizeBilinearGrad ignores
 * `halfPixelCenters` on every backend, so `tf.image.resizeBilinear`'s gradient would be wrong.)
 * @param x [B,h,w,C]
 * @returns [B, h·f, w·f, C], owned by the caller.
 */
export function upsampleBilinear(x: tf.Tensor4D, f: number): tf.Tensor4D {
  if (!Number.isInteger(f) || f < 1) throw new Error(`upsampleBilinear: factor must be a positive integer, got ${f}`);
  if (f === 1) return x.clone();
  return tf.tidy(() => linearAxis(linearAxis(x, 1, f), 2, f));
}
