/**
 * Differentiable upsampling whose gradients every backend (WASM and WebGPU included) computes
 * the same way, from kernels that are fast on WASM (reshape, broadcasting, transpose, forward
 * convolution).
 */
import * as tf from '@tensorflow/tfjs-core';
import { resizeBilinearAdjoint, webgpuPrograms } from './webgpu-programs';

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

/**
 * Interpolation weights of the 3 taps (previous, same, next source pixel) for each phase p < f.
 * With half-pixel centres output index i·f + p sits at source coordinate i + (p + 0.5)/f − 0.5;
 * without (TF1's legacy `resize_bilinear`, which imported graphs use) at i + p/f.
 */
function phaseWeights(f: number, halfPixelCenters: boolean): number[][] {
  return Array.from({ length: f }, (_, p) => {
    const off = halfPixelCenters ? (p + 0.5) / f - 0.5 : p / f;
    return off < 0 ? [-off, 1 + off, 0] : [0, 1 - off, off];
  });
}

/** Fixed 3×3 kernel [3,3,1,f²]: output channel p·f + q is phase (p, q)'s bilinear stencil. */
function bilinearKernel(f: number, halfPixelCenters: boolean): Float32Array {
  const w = phaseWeights(f, halfPixelCenters);
  const k = new Float32Array(9 * f * f);
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < 3; b++) {
      for (let p = 0; p < f; p++) {
        for (let q = 0; q < f; q++) k[(a * 3 + b) * f * f + p * f + q] = w[p][a] * w[q][b];
      }
    }
  }
  return k;
}

/**
 * Adjoint of "valid conv of the edge-replicated x with the fixed polyphase kernel": a forward
 * 'full' conv with the flipped kernel, then the padded border folded back onto the edge rows
 * and columns. (tfjs's MirrorPad gradient drops the reflected part, and its conv input gradient
 * is a slow loop on WASM.)
 * @param dy [N,h,w,f²] @returns [N,h,w,1]
 */
function replicateConvAdjoint(dy: tf.Tensor4D, f: number, halfPixelCenters: boolean): tf.Tensor4D {
  const [n, h, w] = dy.shape;
  const kf = tf.tensor4d(bilinearKernel(f, halfPixelCenters), [3, 3, 1, f * f]);
  const kt = tf.transpose(tf.reverse(kf, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
  const dxp = tf.conv2d(dy, kt, 1, [[0, 0], [2, 2], [2, 2], [0, 0]]); // [n,h+2,w+2,1]
  // Fold the padded border back: border row 0 came from row 0, row h+1 from row h−1.
  const fold = (t: tf.Tensor4D, axis: 1 | 2, len: number): tf.Tensor4D => {
    const begin = (i: number) => (axis === 1 ? [0, i, 0, 0] : [0, 0, i, 0]);
    const size = (m: number) => (axis === 1 ? [n, m, t.shape[2], 1] : [n, t.shape[1], m, 1]);
    const inner = tf.slice(t, begin(1), size(len));
    const first = tf.slice(t, begin(0), size(1));
    const last = tf.slice(t, begin(len + 1), size(1));
    const padFirst: [number, number][] = [[0, 0], [0, 0], [0, 0], [0, 0]];
    const padLast: [number, number][] = [[0, 0], [0, 0], [0, 0], [0, 0]];
    padFirst[axis] = [0, len - 1];
    padLast[axis] = [len - 1, 0];
    return tf.addN([inner, tf.pad(first, padFirst), tf.pad(last, padLast)]) as tf.Tensor4D;
  };
  return fold(fold(dxp, 1, h), 2, w);
}

/**
 * Gradient of {@link upsampleBilinear}: the adjoint of bilinear upsampling in polyphase form.
 * Forward, output pixel (i·f + p, j·f + q) of a channel is the (p, q) phase of one fixed 3×3
 * conv of the edge-replicated input at (i, j); so dy's phases are moved to channels
 * ([B·C, h, w, f²], channel p·f + q) and sent back through that conv's adjoint. Only
 * reshapes, transposes and forward convs: fast on WASM, and the same kernels on every backend.
 * @param dy [B, h·f, w·f, C] @returns [B,h,w,C]
 */
function upsampleBilinearAdjoint(dy: tf.Tensor4D, f: number, halfPixelCenters: boolean): tf.Tensor4D {
  const [b, H, W, c] = dy.shape;
  const h = H / f, w = W / f;
  return tf.tidy(() => {
    const planes = tf.reshape(tf.transpose(dy, [0, 3, 1, 2]), [b * c, h, f, w, f]);
    const phases = tf.reshape(tf.transpose(planes, [0, 1, 3, 2, 4]), [b * c, h, w, f * f]) as tf.Tensor4D;
    const dx = replicateConvAdjoint(phases, f, halfPixelCenters); // [B·C,h,w,1]
    return tf.transpose(tf.reshape(dx, [b, c, h, w]), [0, 2, 3, 1]) as tf.Tensor4D;
  });
}

/**
 * Bilinear upsampling by an integer factor, `tf.image.resizeBilinear(x, [h·f, w·f], false,
 * halfPixelCenters)`, with an exact gradient on every backend. tfjs 4.22's ResizeBilinearGrad
 * ignores `halfPixelCenters` on every backend and returns a transposed shape on CPU, so the
 * gradient is our own: {@link upsampleBilinearAdjoint}. The forward pass is tfjs's resize
 * kernel (on WASM 7–12× faster than the polyphase conv with its interleaving transposes).
 * `halfPixelCenters = false` gives TF1's legacy alignment, which the imported CenterNet decoder
 * was trained with.
 * @param x [B,h,w,C]
 * @returns [B, h·f, w·f, C], owned by the caller.
 */
export function upsampleBilinear(x: tf.Tensor4D, f: number, halfPixelCenters = true): tf.Tensor4D {
  if (!Number.isInteger(f) || f < 1) throw new Error(`upsampleBilinear: factor must be a positive integer, got ${f}`);
  if (f === 1) return x.clone();
  const [, h, w] = x.shape;
  const op = tf.customGrad((...args: unknown[]) => ({
    value: tf.image.resizeBilinear(args[0] as tf.Tensor4D, [h * f, w * f], false, halfPixelCenters),
    gradFunc: (dy: tf.Tensor) => webgpuPrograms()
      ? resizeBilinearAdjoint(dy as tf.Tensor4D, (args[0] as tf.Tensor4D).shape, f, halfPixelCenters)
      : upsampleBilinearAdjoint(dy as tf.Tensor4D, f, halfPixelCenters),
  }));
  return op(x) as tf.Tensor4D;
}
