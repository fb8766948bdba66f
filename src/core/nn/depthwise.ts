/**
 * The trainable depthwise convolution of the project (MobileNet blocks): NHWC, 'same' padding
 * (TensorFlow's rule), stride 1 or 2, odd square kernels, channel multiplier 1, optional bias
 * and fused ReLU.
 *
 * Why it exists: the WASM backend has no `DepthwiseConv2dNativeBackpropInput/Filter` kernels, so
 * `tf.depthwiseConv2d`'s own gradient cannot train there. This op's gradient uses only forward
 * kernels that every backend has (the same idea as `conv.ts`):
 *
 * * dx: a forward depthwise conv of dz with the kernel rotated 180°. At stride 2, dz is first
 *   spread onto the input grid with zeros between samples (a reshape + pad, no scatter), then
 *   the same rotated conv runs with the padding that undoes the forward pass's TF 'same' split.
 * * dW: each (image, channel) pair becomes one channel of a single image, and dz becomes the
 *   depthwise *filter* of a forward 'valid' conv over the padded input, dilated by the stride:
 *   output tap (a, b) of channel (n, c) is Σ_ij x_pad[n, s·i + a, s·j + b, c]·dz[n, i, j, c].
 *   Summing over n gives the kernel gradient.
 * * bias and ReLU from the saved output, as in `conv.ts`.
 *
 * dW is taken only when the kernel is a gradient target (`split-grad.ts`), so a frozen kernel
 * costs nothing. On WebGPU both gradients are the backend's own depthwise backprop kernels.
 *
 * Tests compare both gradients with tfjs's native depthwise gradient on the CPU backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ACTIVATION_GRAD, fusedKernel, nativeConvGrads, samePadding } from './conv';
import { runExpression, webgpuPrograms } from './webgpu-programs';
import { applySplitGrad } from './split-grad';

/** Activations the op can fuse. */
export type DepthwiseActivation = 'linear' | 'relu';

/** Options of {@link depthwiseConv2d}. */
export interface DepthwiseOptions {
  stride?: 1 | 2;
  activation?: DepthwiseActivation;
}

/** Multiply-adds of one depthwise conv on an `h`×`w` input with `c` channels. */
export function depthwiseMacs(h: number, w: number, k: number, c: number, stride: 1 | 2 = 1): number {
  return Math.ceil(h / stride) * Math.ceil(w / stride) * k * k * c;
}

// MAC tally, as `countConvMacs` in conv.ts: off (null) outside checks.
let macTally: { macs: number } | null = null;

/** Runs `fn` and returns the multiply-adds of all {@link depthwiseConv2d} calls it made. */
export function countDepthwiseMacs<T>(fn: () => T): { result: T; macs: number } {
  const prev = macTally;
  macTally = { macs: 0 };
  try {
    return { result: fn(), macs: macTally.macs };
  } finally {
    macTally = prev;
  }
}

/** dL/dx: forward depthwise conv of (zero-spread) dz with the rotated kernel. */
function inputGrad(dz: tf.Tensor4D, w: tf.Tensor4D, xShape: number[], stride: 1 | 2): tf.Tensor4D {
  const k = w.shape[0];
  const wr = tf.reverse(w, [0, 1]) as tf.Tensor4D;
  if (stride === 1) return tf.depthwiseConv2d(dz, wr, 1, 'same');
  const [b, h, wd, c] = xShape;
  const [, ho, wo] = dz.shape;
  // dz[m] sits at input row 2m: a zero after every row, then after every column. Two rank-4
  // pads rather than one rank-6 pad, whose WebGPU shader does not compile (tfjs 4.22).
  const rows = tf.reshape(tf.pad(tf.reshape(dz, [b, ho, 1, wo * c]), [[0, 0], [0, 0], [0, 1], [0, 0]]), [b * 2 * ho, wo, 1, c]);
  const spread = tf.reshape(tf.pad(rows, [[0, 0], [0, 0], [0, 1], [0, 0]]), [b, 2 * ho, 2 * wo, c]) as tf.Tensor4D;
  // dx[i] = Σ_t u[i + before − t]·w[t] = correlation of u with the rotated kernel, offset by
  // k − 1 − before on the leading side; the trailing side is whatever makes the output h long.
  const axisPad = (size: number, spreadLen: number): [number, number] => {
    const before = k - 1 - samePadding(size, k, 2).before;
    return [before, size + k - 1 - spreadLen - before];
  };
  const [pt, pb] = axisPad(h, 2 * ho);
  const [pl, pr] = axisPad(wd, 2 * wo);
  let src = spread;
  // A negative trailing pad means the spread grid is longer than needed: crop it instead.
  if (pb < 0 || pr < 0) {
    src = tf.slice(src, [0, 0, 0, 0], [b, 2 * ho + Math.min(pb, 0), 2 * wo + Math.min(pr, 0), c]);
  }
  const pad: tf.backend_util.ExplicitPadding = [[0, 0], [pt, Math.max(pb, 0)], [pl, Math.max(pr, 0)], [0, 0]];
  return tf.depthwiseConv2d(src, wr, 1, pad);
}

/** dL/dW as [k,k,C,1], by the channels-as-batch forward conv described in the module comment. */
function filterGrad(x: tf.Tensor4D, dz: tf.Tensor4D, k: number, stride: 1 | 2): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const [, ho, wo] = dz.shape;
  const ph = samePadding(h, k, stride);
  const pw = samePadding(w, k, stride);
  const xs = tf.reshape(tf.transpose(x, [1, 2, 0, 3]), [1, h, w, b * c]) as tf.Tensor4D;
  const f = tf.reshape(tf.transpose(dz, [1, 2, 0, 3]), [ho, wo, b * c, 1]) as tf.Tensor4D;
  const pad: tf.backend_util.ExplicitPadding = [[0, 0], [ph.before, ph.after], [pw.before, pw.after], [0, 0]];
  let g = tf.depthwiseConv2d(xs, f, 1, pad, 'NHWC', stride) as tf.Tensor4D; // [1, >=k, >=k, B·C]
  if (g.shape[1] !== k || g.shape[2] !== k) g = tf.slice(g, [0, 0, 0, 0], [1, k, k, b * c]);
  return tf.reshape(tf.sum(tf.reshape(g, [k, k, b, c]), 2), [k, k, c, 1]) as tf.Tensor4D;
}

/** dL/dz from dL/dy through the fused activation, given the output y. */
function preActivationGrad(dy: tf.Tensor4D, y: tf.Tensor4D, act: DepthwiseActivation): tf.Tensor4D {
  if (act === 'linear') return dy;
  return webgpuPrograms() ? runExpression(ACTIVATION_GRAD.relu, [dy, y]) as tf.Tensor4D : tf.mul(dy, tf.step(y)) as tf.Tensor4D;
}

/** The depthwise conv as a layer with its own gradients (see `split-grad.ts`). */
function apply(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D | null, stride: 1 | 2, act: DepthwiseActivation): tf.Tensor4D {
  const k = w.shape[0];
  return applySplitGrad({
    forward: (xi) => fusedKernel('FusedDepthwiseConv2D', xi, w, b, stride, act, 0),
    preActivationGrad: (dy, y) => preActivationGrad(dy, y, act),
    inputGrad: (dz, xShape) => nativeConvGrads()
      ? tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dz, filter: w },
        { strides: stride, dilations: 1, pad: 'same', inputShape: xShape } as unknown as tf.NamedAttrMap) as tf.Tensor4D
      : inputGrad(dz, w, xShape, stride),
    paramGrads: (dz, xi) => {
      const dw = nativeConvGrads()
        ? tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: xi, dy: dz },
          { strides: stride, dilations: 1, pad: 'same', filterShape: w.shape } as unknown as tf.NamedAttrMap) as tf.Tensor4D
        : filterGrad(xi, dz, k, stride);
      return b ? [dw, tf.sum(dz, [0, 1, 2])] : [dw];
    },
  }, x, b ? [w, b] : [w]);
}

/**
 * Depthwise 2-D convolution with 'same' padding, trainable on every backend.
 * @param x [B,H,W,C]; @param w [k,k,C,1], k odd; @param b optional bias [C].
 * @returns [B, ceil(H/stride), ceil(W/stride), C], owned by the caller.
 * @throws if shapes or options do not fit.
 */
export function depthwiseConv2d(
  x: tf.Tensor4D, w: tf.Tensor4D, b?: tf.Tensor1D | null, opts: DepthwiseOptions = {},
): tf.Tensor4D {
  const stride = opts.stride ?? 1;
  const act = opts.activation ?? 'linear';
  if (x.rank !== 4 || w.rank !== 4) throw new Error(`depthwiseConv2d: x and w must be rank 4 (got ${x.rank}, ${w.rank})`);
  const [k, k2, c, mult] = w.shape;
  if (k !== k2 || k % 2 !== 1) throw new Error(`depthwiseConv2d: kernel must be square with odd size, got ${k}x${k2}`);
  if (mult !== 1) throw new Error(`depthwiseConv2d: channel multiplier must be 1, got ${mult}`);
  if (x.shape[3] !== c) throw new Error(`depthwiseConv2d: input has ${x.shape[3]} channels, kernel expects ${c}`);
  if (b && (b.rank !== 1 || b.shape[0] !== c)) throw new Error(`depthwiseConv2d: bias must be [${c}], got [${b.shape}]`);
  if (stride !== 1 && stride !== 2) throw new Error(`depthwiseConv2d: stride must be 1 or 2, got ${String(stride)}`);
  if (macTally) macTally.macs += x.shape[0] * depthwiseMacs(x.shape[1], x.shape[2], k, c, stride);
  return apply(x, w, b ?? null, stride, act);
}
