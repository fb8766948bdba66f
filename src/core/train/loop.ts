/**
 * The one training loop of the core: a seeded step function over named parameters, an Adam
 * optimizer, per-term loss logs, and a guard against non-finite losses. Both the Node training
 * pipeline and the browser fine-tuning worker drive it (as an async generator they can stop).
 */
import * as tf from '@tensorflow/tfjs-core';
import { addMany } from '../nn/add-many';
import { Rng, deriveSeed } from '../nn/random';
import type { Params } from '../types';

/** The losses of one step: `total` is minimised, `terms` are logged. Tensors are owned by the loop. */
export interface StepLosses {
  total: tf.Scalar;
  terms: Record<string, tf.Scalar>;
}

/** What one step reports. Loss values are plain numbers. */
export interface StepLog {
  /** 1-based index of the step just taken (or skipped). */
  step: number;
  total: number;
  terms: Record<string, number>;
  /** Wall time of the step in milliseconds. */
  ms: number;
  /** True when the loss was NaN or Inf: no parameter moved. */
  skipped: boolean;
  /** Learning rate used for this step. */
  lr: number;
}

export interface LoopOptions {
  /** Parameters to move (all of them; pass a subset to freeze the rest). */
  params: Params;
  /** Builds the losses of a step. Called inside the gradient tape; `rng` is seeded per step. */
  loss: (step: number, rng: Rng) => StepLosses;
  steps: number;
  /** Steps already done (resume): the loop runs steps startStep+1 .. steps. */
  startStep?: number;
  seed: number;
  /** Peak learning rate; cosine-decayed to `lrMin` over `steps` after `warmup` linear steps. */
  lr: number;
  lrMin?: number;
  warmup?: number;
  /** Gradients are scaled down so their global norm is at most this (default 10). */
  clipNorm?: number;
  /** The optimizer over `params` (the caller owns it, so it can checkpoint and dispose it). */
  optimizer: Adam;
}

/** Adam's moments and step count as plain arrays, for checkpoints. */
export interface AdamState {
  step: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

/** Learning rate at `step` (1-based) of a warm-up + cosine schedule. */
export function scheduledLr(step: number, o: Pick<LoopOptions, 'lr' | 'lrMin' | 'warmup' | 'steps'>): number {
  const warm = o.warmup ?? 0;
  if (step <= warm) return (o.lr * step) / Math.max(warm, 1);
  const t = (step - warm) / Math.max(o.steps - warm, 1);
  const lo = o.lrMin ?? o.lr * 0.05;
  return lo + 0.5 * (o.lr - lo) * (1 + Math.cos(Math.PI * Math.min(t, 1)));
}

/**
 * A small Adam over named variables. Its own (rather than tf.train.adam) so the learning rate can
 * change every step and its state can be checkpointed and restored by name.
 */
export class Adam {
  readonly #m = new Map<string, tf.Variable>();
  readonly #v = new Map<string, tf.Variable>();
  #t = 0;

  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /**
   * Multiplies the learning rate of the named parameters (default 1): a pretrained backbone
   * moves more slowly than the heads fitted on top of it.
   */
  readonly lrScale: Record<string, number>;

  constructor(readonly params: Params, o: { beta1?: number; beta2?: number; eps?: number; lrScale?: Record<string, number> } = {}) {
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.eps = o.eps ?? 1e-7;
    this.lrScale = o.lrScale ?? {};
    // Variables survive tidy; the zerosLike temporaries they copy do not leak.
    tf.tidy(() => {
      for (const [k, p] of Object.entries(params)) {
        this.#m.set(k, tf.variable(tf.zerosLike(p), false));
        this.#v.set(k, tf.variable(tf.zerosLike(p), false));
      }
    });
  }

  get step(): number {
    return this.#t;
  }

  /** Applies one update with learning rate `lr`; `grads` are not disposed. */
  apply(grads: Record<string, tf.Tensor>, lr: number): void {
    this.#t += 1;
    const c1 = 1 - this.beta1 ** this.#t;
    const c2 = 1 - this.beta2 ** this.#t;
    tf.tidy(() => {
      for (const [k, g] of Object.entries(grads)) {
        const p = this.params[k];
        const m = this.#m.get(k)!;
        const v = this.#v.get(k)!;
        // Functional ops only: the core does not rely on tfjs's chained-op augmentation.
        m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1)));
        v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
        const update = tf.mul(tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), this.eps)), lr * (this.lrScale[k] ?? 1));
        p.assign(tf.sub(p, update));
      }
    });
  }

  /** A copy of the state as plain arrays. */
  async state(): Promise<AdamState> {
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    for (const k of this.#m.keys()) {
      m[k] = (await this.#m.get(k)!.data()) as Float32Array;
      v[k] = (await this.#v.get(k)!.data()) as Float32Array;
    }
    return { step: this.#t, m, v };
  }

  /** Restores a state saved by {@link state}; names and sizes must match. */
  restore(s: AdamState): void {
    for (const k of this.#m.keys()) {
      if (!s.m[k] || !s.v[k]) throw new Error(`optimizer state lacks ${k}`);
      const shape = this.params[k].shape;
      this.#m.get(k)!.assign(tf.tensor(s.m[k], shape));
      this.#v.get(k)!.assign(tf.tensor(s.v[k], shape));
    }
    this.#t = s.step;
  }

  dispose(): void {
    for (const t of [...this.#m.values(), ...this.#v.values()]) t.dispose();
  }
}

/**
 * Runs `steps` optimisation steps, yielding a {@link StepLog} after each. A step whose loss or
 * gradients are not finite is skipped: no parameter moves. Stop early with `return()`.
 */
export async function* trainLoop(o: LoopOptions): AsyncGenerator<StepLog, void, void> {
  const names = Object.keys(o.params);
  const vars = names.map((k) => o.params[k]);
  const opt = o.optimizer;
  {
    for (let step = (o.startStep ?? 0) + 1; step <= o.steps; step++) {
      const t0 = performance.now();
      const rng = new Rng(deriveSeed(o.seed, step));
      let terms: Record<string, tf.Scalar> = {};
      const { value, grads } = tf.variableGrads(() => {
        const l = o.loss(step, rng);
        terms = Object.fromEntries(Object.entries(l.terms).map(([k, t]) => [k, tf.keep(t)]));
        return l.total;
      }, vars);
      const termValues: Record<string, number> = {};
      for (const [k, t] of Object.entries(terms)) termValues[k] = (await t.data())[0];
      const total = (await value.data())[0];
      const lr = scheduledLr(step, o);
      const named: Record<string, tf.Tensor> = {};
      for (const k of names) named[k] = grads[o.params[k].name];
      const finite = Number.isFinite(total) && (await allFinite(Object.values(named)));
      if (finite) {
        const clipped = clipByGlobalNorm(named, o.clipNorm ?? 10);
        opt.apply(clipped, lr);
        tf.dispose(Object.values(clipped));
      }
      tf.dispose([value, ...Object.values(grads), ...Object.values(terms)]);
      yield { step, total, terms: termValues, ms: performance.now() - t0, skipped: !finite, lr };
    }
  }
}

/** Whether every element of `ts` is finite (one sum read back: a NaN or ±∞ anywhere spoils it). */
export async function allFinite(ts: tf.Tensor[]): Promise<boolean> {
  const s = tf.tidy(() => addMany(ts.map((t) => tf.sum(t))));
  const v = (await s.data())[0];
  s.dispose();
  return Number.isFinite(v);
}

/** √(Σ‖t‖²) over all of `ts`: the global L2 norm of a set of tensors (a scalar). */
export function globalNorm(ts: readonly tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => tf.sqrt(addMany(ts.map((g) => tf.sum(tf.square(g))))) as tf.Scalar);
}

/** Scales gradients so their global L2 norm is at most `maxNorm`. Returns new tensors. */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): Record<string, tf.Tensor> {
  return tf.tidy(() => {
    const norm = globalNorm(Object.values(grads));
    const scale = tf.minimum(tf.scalar(1), tf.div(maxNorm, tf.add(norm, 1e-12)));
    const out: Record<string, tf.Tensor> = {};
    for (const [k, g] of Object.entries(grads)) out[k] = tf.mul(g, scale);
    return out;
  });
}
