/**
 * Declarative conv layers: one table per model says each conv's name, kernel, channels, stride
 * and the scale it runs at, so parameter init, the forward pass and the MAC count all come from
 * the same numbers and cannot drift apart.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../types';
import { conv2d, convMacs, type ConvActivation } from './conv';
import { Rng, deriveSeed } from './random';

/** One trainable conv layer of a model. */
export interface ConvSpec {
  /** Parameter prefix: the layer owns `<name>/kernel` and, with a bias, `<name>/bias`. */
  name: string;
  /** Square kernel size (odd). */
  k: number;
  cin: number;
  cout: number;
  /** Conv stride; 2 halves the resolution (rounding up, as 'same' padding does). */
  stride: 1 | 2;
  /** Downsampling factor of the layer's *input* relative to the model input (1, 2, 4, …). */
  scale: number;
  /** Activation applied by the layer. Default 'relu'. */
  activation?: ConvActivation;
  /** Negative slope for 'leakyrelu'. */
  alpha?: number;
  /** Whether the layer has a bias. Default true. */
  bias?: boolean;
  /**
   * Multiplier on the init standard deviation. The base is He init, sqrt(2 / fan_in), for
   * rectifier layers and sqrt(1 / fan_in) for linear/sigmoid ones. Default 1.
   */
  initGain?: number;
  /** Initial bias: one number for all channels or one per channel. Default 0. */
  biasInit?: number | number[];
}

/** Side length at downsampling `scale` of an input side `size`: repeated ceil(size / 2). */
export function sizeAt(size: number, scale: number): number {
  let v = size;
  for (let f = 1; f < scale; f *= 2) v = Math.ceil(v / 2);
  return v;
}

/** Exact multiply-adds of all layers in `specs` for one `h`×`w` input. */
export function specsMacs(specs: readonly ConvSpec[], h: number, w: number): number {
  let total = 0;
  for (const s of specs) total += convMacs(sizeAt(h, s.scale), sizeAt(w, s.scale), s.k, s.cin, s.cout, s.stride);
  return total;
}

/**
 * Creates the layers' parameters as new variables. Each layer draws from its own stream
 * derived from `seed` and its name, so adding a layer does not change the others' init.
 * @returns variables owned by the caller (dispose them, or hand them to a model holder).
 */
export function initConvs(specs: readonly ConvSpec[], seed: number): Params {
  const params: Params = {};
  for (const s of specs) {
    const rng = new Rng(deriveSeed(seed, s.name));
    const act = s.activation ?? 'relu';
    const rect = act === 'relu' || act === 'leakyrelu';
    const fanIn = s.k * s.k * s.cin;
    const std = (s.initGain ?? 1) * Math.sqrt((rect ? 2 : 1) / fanIn);
    params[`${s.name}/kernel`] = makeVariable(rng.normalArray(fanIn * s.cout, 0, std), [s.k, s.k, s.cin, s.cout]);
    if (s.bias !== false) {
      const b = new Float32Array(s.cout);
      const init = s.biasInit ?? 0;
      for (let i = 0; i < s.cout; i++) b[i] = typeof init === 'number' ? init : init[i];
      params[`${s.name}/bias`] = makeVariable(b, [s.cout]);
    }
  }
  return params;
}

/** A new trainable variable holding `values` with `shape`. */
export function makeVariable(values: Float32Array, shape: number[]): tf.Variable {
  const t = tf.tensor(values, shape, 'float32');
  const v = tf.variable(t, true);
  t.dispose();
  return v;
}

/**
 * Looks up a parameter by name.
 * @throws naming the model and the missing key.
 */
export function param<R extends tf.Rank>(params: Params, name: string, model = 'model'): tf.Tensor<R> {
  const p = params[name];
  if (!p) throw new Error(`${model}: missing parameter '${name}'`);
  return p as unknown as tf.Tensor<R>;
}

/** Runs one layer of the table on `x` with its kernel, bias, stride and activation. */
export function applyConv(params: Params, spec: ConvSpec, x: tf.Tensor4D, model = 'model'): tf.Tensor4D {
  const w = param<tf.Rank.R4>(params, `${spec.name}/kernel`, model);
  const b = spec.bias === false ? null : param<tf.Rank.R1>(params, `${spec.name}/bias`, model);
  return conv2d(x, w, b, { stride: spec.stride, activation: spec.activation ?? 'relu', alpha: spec.alpha });
}

/**
 * Channel `c` of an NHWC tensor as [B,H,W,1]: forward, a 1×1 conv with a one-hot kernel;
 * backward, dy times the one-hot row. Why not slice/split: on WASM a channel-axis slice of a
 * full-resolution tensor runs a JS loop (22 ms at 640×480×2, against 2 ms for the conv and
 * 6 ms for a broadcast multiply and channel sum), and their gradients are slower still.
 */
export function channel(x: tf.Tensor4D, c: number): tf.Tensor4D {
  const n = x.shape[3];
  if (c < 0 || c >= n) throw new Error(`channel: index ${c} out of range for ${n} channels`);
  if (n === 1) return x.clone();
  const oneHot = () => {
    const row = new Float32Array(n);
    row[c] = 1;
    return row;
  };
  const op = tf.customGrad((...args: unknown[]) => ({
    value: tf.conv2d(args[0] as tf.Tensor4D, tf.tensor4d(oneHot(), [1, 1, n, 1]), 1, 'valid'),
    gradFunc: (dy: tf.Tensor) => tf.mul(dy, tf.tensor1d(oneHot())),
  }));
  return op(x) as tf.Tensor4D;
}

/**
 * Mean over height and width, [B,H,W,C] → [B,1,1,C], as a matmul of the [B,H·W,C] features
 * (transposed) with a constant column. On WASM tf.mean over non-innermost axes transposes first
 * (6.3 ms at 1×120×160×128, against 3.5 ms). Not an average pool, though faster (2.2 ms): on
 * WASM its output, kept by a later conv for its gradient, came back wrong in S's backward pass
 * for 2×3 windows (gradients 1e-3 off CPU's), and the matmul form was right.
 */
export function spatialMean(x: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  return tf.tidy(() => {
    // Uploaded rather than filled: a fill is one more GPU program.
    const column = tf.tensor3d(new Float32Array(h * w).fill(1 / (h * w)), [1, h * w, 1]);
    return tf.reshape(tf.matMul(tf.reshape(x, [b, h * w, c]), column, true, false), [b, 1, 1, c]) as tf.Tensor4D;
  });
}

/**
 * Bytes per input pixel of the largest float32 layer output of a table (layers at a finite
 * scale: a squeeze-excite's pooled convs are tiny). Sizes a model's buffers against a GPU's
 * per-binding limit.
 */
export function peakBytesPerPixel(layers: readonly { cout: number; scale: number; stride: number }[]): number {
  let peak = 0;
  for (const l of layers) {
    if (Number.isFinite(l.scale)) peak = Math.max(peak, (4 * l.cout) / (l.scale * l.stride) ** 2);
  }
  return peak;
}

/** Indexes a layer table by name, checking names are unique. */
export function specIndex(specs: readonly ConvSpec[]): Record<string, ConvSpec> {
  const out: Record<string, ConvSpec> = {};
  for (const s of specs) {
    if (out[s.name]) throw new Error(`duplicate layer name '${s.name}'`);
    out[s.name] = s;
  }
  return out;
}
