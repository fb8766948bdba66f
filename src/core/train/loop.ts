/**
 * The one training loop of the core: a seeded step function over named parameters, an Adam
 * optimizer, per-term loss logs, and a guard against non-finite losses. `npm run train` drives
 * it (as an async generator it can stop); fine-tunes step through the strategies' `StepRunner`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { variableGradsOf } from '../nn/split-grad';
import { readScalars } from './read';
import { vectorNorm, type Adam } from './flat';
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

/** Learning rate at `step` (1-based) of a warm-up + cosine schedule. */
export function scheduledLr(step: number, o: Pick<LoopOptions, 'lr' | 'lrMin' | 'warmup' | 'steps'>): number {
  const warm = o.warmup ?? 0;
  if (step <= warm) return (o.lr * step) / Math.max(warm, 1);
  const t = (step - warm) / Math.max(o.steps - warm, 1);
  const lo = o.lrMin ?? o.lr * 0.05;
  return lo + 0.5 * (o.lr - lo) * (1 + Math.cos(Math.PI * Math.min(t, 1)));
}

/**
 * Runs `steps` optimisation steps, yielding a {@link StepLog} after each. A step whose loss or
 * gradients are not finite is skipped: no parameter moves. Stop early with `return()`.
 */
export async function* trainLoop(o: LoopOptions): AsyncGenerator<StepLog, void, void> {
  const names = Object.keys(o.params);
  const vars = names.map((k) => o.params[k]);
  const opt = o.optimizer;
  for (let step = (o.startStep ?? 0) + 1; step <= o.steps; step++) {
    const t0 = performance.now();
    const rng = new Rng(deriveSeed(o.seed, step));
    let terms: Record<string, tf.Scalar> = {};
    const { value, grads } = variableGradsOf(() => {
      const l = o.loss(step, rng);
      terms = Object.fromEntries(Object.entries(l.terms).map(([k, t]) => [k, tf.keep(t)]));
      return l.total;
    }, vars);
    const named: Record<string, tf.Tensor> = {};
    for (const k of names) named[k] = grads[o.params[k].name] ?? tf.zerosLike(o.params[k]);
    const g = opt.layout.flatten(named);
    const norm = vectorNorm(g);
    // One read a step: the terms, the total and the gradient norm (non-finite if any gradient is).
    const read = await readScalars({ ...terms, [TOTAL]: value, [NORM]: norm });
    const { [TOTAL]: total, [NORM]: gradNorm, ...termValues } = read;
    const lr = scheduledLr(step, o);
    const finite = Number.isFinite(total) && Number.isFinite(gradNorm);
    if (finite) opt.applyClipped(g, norm, o.clipNorm ?? 10, lr);
    tf.dispose([value, g, norm, ...Object.values(named), ...Object.values(grads), ...Object.values(terms)]);
    yield { step, total, terms: termValues, ms: performance.now() - t0, skipped: !finite, lr };
  }
}

// Keys of the loop's own numbers in its packed read (no loss term is named so).
const TOTAL = '\u0000total';
const NORM = '\u0000gradient norm';
