/**
 * Named parameters laid end to end in one 1-D tensor, and the optimiser over that vector.
 *
 * Why: on a GPU backend tfjs pays a fixed cost per kernel, and per-variable optimiser work
 * (Adam, clipping, the finiteness check) costs about twenty kernels per variable and step. On
 * one vector per model it costs a few concatenations, a dozen element-wise kernels and one
 * slice per variable to write the result back.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../types';
import { runExpression, webgpuPrograms, type Expression } from '../nn/webgpu-programs';

/** Named tensors, e.g. one gradient per parameter of a model. */
export type NamedTensors = Record<string, tf.Tensor>;

/** Where each named tensor sits in the vector. */
export class FlatLayout {
  readonly names: readonly string[];
  readonly shapes: readonly number[][];
  /** Elements of each named tensor, and where it starts in the vector. */
  readonly sizes: readonly number[];
  readonly offsets: readonly number[];
  readonly size: number;

  constructor(params: Readonly<Record<string, { shape: number[] }>>) {
    this.names = Object.keys(params);
    this.shapes = this.names.map((k) => params[k].shape);
    this.sizes = this.shapes.map((s) => s.reduce((a, b) => a * b, 1));
    const offsets: number[] = [];
    let at = 0;
    for (const n of this.sizes) {
      offsets.push(at);
      at += n;
    }
    this.offsets = offsets;
    this.size = at;
  }

  /** The tensors of `ts` (every name of the layout) end to end, as a new tensor. */
  flatten(ts: Readonly<NamedTensors>): tf.Tensor1D {
    return tf.tidy(() => {
      const parts = this.names.map((k) => {
        const t = ts[k];
        if (!t) throw new Error(`flatten: no tensor for '${k}'`);
        return tf.reshape(t, [-1]);
      });
      return (parts.length === 1 ? tf.clone(parts[0]) : tf.concat(parts)) as tf.Tensor1D;
    });
  }

  /** The named tensors of a vector (new tensors). */
  unflatten(flat: tf.Tensor1D): NamedTensors {
    return tf.tidy(() => Object.fromEntries(this.names.map((k, i) => [k, this.#part(flat, i)])));
  }

  /** Sets every variable of `vars` to its part of `flat`. */
  assign(vars: Params, flat: tf.Tensor1D): void {
    tf.tidy(() => this.names.forEach((k, i) => vars[k].assign(this.#part(flat, i))));
  }

  /** Splits a vector read back to the CPU by name (views into `flat`). */
  split(flat: Float32Array): Record<string, Float32Array> {
    return Object.fromEntries(this.names.map((k, i) => [k, flat.subarray(this.offsets[i], this.offsets[i] + this.sizes[i])]));
  }

  /** The inverse of {@link split}: one array, every name of the layout required with its size. */
  join(parts: Readonly<Record<string, Float32Array>>, what = 'state'): Float32Array {
    const out = new Float32Array(this.size);
    this.names.forEach((k, i) => {
      const p = parts[k];
      if (!p) throw new Error(`${what} lacks ${k}`);
      if (p.length !== this.sizes[i]) throw new Error(`${what}: ${k} has ${p.length} values, expected ${this.sizes[i]}`);
      out.set(p, this.offsets[i]);
    });
    return out;
  }

  #part(flat: tf.Tensor1D, i: number): tf.Tensor {
    return tf.reshape(tf.slice(flat, this.offsets[i], this.sizes[i]), this.shapes[i]);
  }
}

/** √(Σ x²) of a vector (a scalar tensor). */
export function vectorNorm(v: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.sqrt(tf.sum(tf.square(v))) as tf.Scalar);
}

/**
 * `g` scaled so its L2 norm `norm` is at most `maxNorm` (0: no clipping). A non-finite norm
 * gives a non-finite result, which the caller's finiteness check catches.
 */
export function clipToNorm(g: tf.Tensor1D, norm: tf.Scalar, maxNorm: number): tf.Tensor1D {
  if (!(maxNorm > 0)) return tf.clone(g);
  if (webgpuPrograms()) return runExpression(CLIP, [g, norm], [maxNorm]) as tf.Tensor1D;
  return tf.tidy(() => tf.mul(g, tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-12)))) as tf.Tensor1D);
}

// The optimiser's arithmetic as one WebGPU program per result (else a dozen tfjs ops).
const CLIP: Expression = { name: 'clip_to_norm', wgsl: 'a * min(1.0, u0 / (b + 1e-12))' };
const ADAM_M: Expression = { name: 'adam_m', wgsl: 'a * u0 + b * u1' };
const ADAM_V: Expression = { name: 'adam_v', wgsl: 'a * u0 + b * b * u1' };
const ADAM_P: Expression = { name: 'adam_p', wgsl: 'a - b * u0 / (sqrt(c) * u1 + u2)' };
const ADAM_P_SCALED: Expression = { name: 'adam_p_scaled', wgsl: 'a - d * b * u0 / (sqrt(c) * u1 + u2)' };

/** Adam's moments and step count as plain arrays by parameter name, for checkpoints. */
export interface AdamState {
  step: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

/** Options of {@link Adam}. */
export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /**
   * Multiplies the learning rate of the named parameters (default 1): a pretrained backbone
   * moves more slowly than the heads fitted on top of it.
   */
  lrScale?: Record<string, number>;
}

/**
 * Adam over named variables, its moments held as one vector each. Its own (rather than
 * tf.train.adam) so the learning rate can change every step and its state can be checkpointed
 * and restored by name.
 */
export class Adam {
  readonly layout: FlatLayout;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly lrScale: Record<string, number>;
  readonly #m: tf.Variable;
  readonly #v: tf.Variable;
  /** Per-element learning-rate multipliers, when some name has one. */
  readonly #scale: tf.Tensor1D | null;
  #t = 0;

  constructor(readonly params: Params, o: AdamOptions = {}) {
    this.layout = new FlatLayout(params);
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.eps = o.eps ?? 1e-7;
    this.lrScale = o.lrScale ?? {};
    const n = this.layout.size;
    // Variables survive tidy; the zeros they copy do not leak.
    [this.#m, this.#v] = tf.tidy(() => [tf.variable(tf.zeros([n]), false), tf.variable(tf.zeros([n]), false)]);
    const scaled = this.layout.names.some((k) => (this.lrScale[k] ?? 1) !== 1);
    this.#scale = scaled
      ? tf.tensor1d(this.layout.join(Object.fromEntries(this.layout.names.map((k, i) =>
        [k, new Float32Array(this.layout.sizes[i]).fill(this.lrScale[k] ?? 1)]))))
      : null;
  }

  get step(): number {
    return this.#t;
  }

  /** Applies one update with learning rate `lr` from gradients by name; `grads` are not disposed. */
  apply(grads: Readonly<NamedTensors>, lr: number): void {
    const g = this.layout.flatten(grads);
    try {
      this.applyFlat(g, lr);
    } finally {
      g.dispose();
    }
  }

  /** Applies one update with learning rate `lr` from the gradient vector (in the layout's order). */
  applyFlat(g: tf.Tensor1D, lr: number): void {
    this.#t += 1;
    const c1 = 1 - this.beta1 ** this.#t;
    const c2 = 1 - this.beta2 ** this.#t;
    tf.tidy(() => {
      const p = this.layout.flatten(this.params);
      let next: tf.Tensor;
      if (webgpuPrograms()) {
        const m = runExpression(ADAM_M, [this.#m, g], [this.beta1, 1 - this.beta1]);
        const v = runExpression(ADAM_V, [this.#v, g], [this.beta2, 1 - this.beta2]);
        this.#m.assign(m);
        this.#v.assign(v);
        const u = [lr / c1, 1 / Math.sqrt(c2), this.eps];
        next = this.#scale ? runExpression(ADAM_P_SCALED, [p, m, v, this.#scale], u) : runExpression(ADAM_P, [p, m, v], u);
      } else {
        const m = tf.add(tf.mul(this.#m, this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(this.#v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        this.#m.assign(m);
        this.#v.assign(v);
        // lr·(m/c1)/(√(v/c2) + ε), with the bias corrections folded into two scalars.
        let update = tf.div(tf.mul(m, lr / c1), tf.add(tf.mul(tf.sqrt(v), 1 / Math.sqrt(c2)), this.eps));
        if (this.#scale) update = tf.mul(update, this.#scale);
        next = tf.sub(p, update);
      }
      this.layout.assign(this.params, next as tf.Tensor1D);
    });
  }

  /**
   * One update from the gradient vector `g` whose L2 norm is `norm`, clipped to `maxNorm` first
   * (0: no clipping); `g` and `norm` are not disposed.
   */
  applyClipped(g: tf.Tensor1D, norm: tf.Scalar, maxNorm: number, lr: number): void {
    const clipped = clipToNorm(g, norm, maxNorm);
    try {
      this.applyFlat(clipped, lr);
    } finally {
      clipped.dispose();
    }
  }

  /** A copy of the state as plain arrays by name. */
  async state(): Promise<AdamState> {
    const m = (await this.#m.data()) as Float32Array;
    const v = (await this.#v.data()) as Float32Array;
    return { step: this.#t, m: this.layout.split(m), v: this.layout.split(v) };
  }

  /** Restores a state saved by {@link state}; names and sizes must match. */
  restore(s: AdamState): void {
    const m = this.layout.join(s.m, 'optimizer state');
    const v = this.layout.join(s.v, 'optimizer state');
    tf.tidy(() => {
      this.#m.assign(tf.tensor1d(m));
      this.#v.assign(tf.tensor1d(v));
    });
    this.#t = s.step;
  }

  dispose(): void {
    tf.dispose([this.#m, this.#v, ...(this.#scale ? [this.#scale] : [])]);
  }
}
