/**
 * One guarded optimisation step, shared by the strategies: the tensors a step makes (freed
 * however it ends), gradients keyed by model and parameter name, one Adam per trained model
 * over one vector, and the non-finite guard with parameter rollback and one read per step.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../types';
import type { ModelName } from '../models/registry';
import { scheduledLr, type StepLosses } from '../train/loop';
import { readScalars } from '../train/read';
import { Adam, FlatLayout, vectorNorm, type NamedTensors } from '../train/flat';
import { variableGradsOf } from '../nn/split-grad';
import { CONSTANT_RATE, type CommonOptions, type StrategyPlan, type StrategyStepLog } from './types';

export type { NamedTensors } from '../train/flat';

function collectTensors(x: unknown, out: tf.Tensor[], seen: Set<unknown>): void {
  if (x === null || typeof x !== 'object' || seen.has(x)) return;
  seen.add(x);
  if (x instanceof tf.Tensor) {
    out.push(x);
    return;
  }
  for (const v of Array.isArray(x) ? x : Object.values(x)) collectTensors(v, out, seen);
}

/**
 * Collects the tensors a step creates so that they are freed however the step ends (a
 * rejected promise or a non-finite loss included): async code cannot run inside `tf.tidy`.
 */
export class Bag {
  #items: tf.Tensor[] = [];

  /** Registers every tensor inside `x` (a tensor, array or plain object, nested) and returns `x`. */
  add<T>(x: T): T {
    collectTensors(x, this.#items, new Set());
    return x;
  }

  dispose(): void {
    tf.dispose(this.#items);
    this.#items = [];
  }
}

/** Gradients of one loss with respect to several models, keyed by model then parameter name. */
export interface LossGrads {
  value: tf.Scalar;
  terms: Record<string, tf.Scalar>;
  grads: Partial<Record<ModelName, NamedTensors>>;
}

/**
 * Value, logged terms and gradients of `loss` with respect to exactly the parameters in
 * `wrt`. Other models' parameters are constants here (gradients still flow *through* them, e.g.
 * through a frozen S into F, and their layers record no parameter gradient). A parameter the
 * loss does not reach gets a zero gradient.
 */
export function lossAndGrads(loss: () => StepLosses, wrt: Partial<Record<ModelName, Params>>): LossGrads {
  const vars: tf.Variable[] = [];
  const owner: [ModelName, string][] = [];
  for (const [model, params] of Object.entries(wrt) as [ModelName, Params][]) {
    for (const [k, v] of Object.entries(params)) {
      vars.push(v);
      owner.push([model, k]);
    }
  }
  let terms: Record<string, tf.Scalar> = {};
  const { value, grads } = variableGradsOf(() => {
    const l = loss();
    terms = Object.fromEntries(Object.entries(l.terms).map(([k, t]) => [k, tf.keep(t)]));
    return l.total;
  }, vars);
  const out: Partial<Record<ModelName, NamedTensors>> = {};
  vars.forEach((v, i) => {
    const [model, k] = owner[i];
    (out[model] ??= {})[k] = grads[v.name] ?? tf.zerosLike(v);
  });
  return { value, terms, grads: out };
}

/** `<a, b>` of two vectors (a scalar). */
export function dot(a: tf.Tensor1D, b: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.mul(a, b)) as tf.Scalar);
}

/** Thrown inside a step when a loss or gradient is NaN or ±Inf. */
export class NonFiniteError extends Error {
  constructor(readonly what: string, readonly terms: Record<string, number>) {
    super(`non-finite ${what}`);
  }
}

/** Snapshots of trained parameters: the last good values to roll back to. */
export class ParamGuard {
  readonly #vars: tf.Variable[];
  #start: tf.Tensor[] | null = null;
  #startStep = 0;
  #good: tf.Tensor[] | null = null;
  #goodStep = 0;

  constructor(groups: Params[]) {
    this.#vars = groups.flatMap((p) => Object.values(p));
  }

  /** Records the parameters as they are before step `step` (clones share data: no copy). */
  begin(step: number): void {
    if (this.#start) tf.dispose(this.#start);
    this.#start = this.#vars.map((v) => tf.clone(v));
    this.#startStep = step;
  }

  /** The step ended with finite losses and gradients: its starting values become the last good ones. */
  commit(): void {
    if (this.#good) tf.dispose(this.#good);
    this.#good = this.#start;
    this.#goodStep = this.#startStep;
    this.#start = null;
  }

  /**
   * Sets every parameter back to the last good values: those before the last step that ended
   * finite (the step that produced the current values may itself have gone wrong), or, before
   * any such step, those before the current one. Returns a sentence saying which.
   */
  rollback(): string {
    const target = this.#good ?? this.#start;
    if (target) this.#vars.forEach((v, i) => v.assign(target[i]));
    const said = this.#good
      ? `parameters restored to those before step ${this.#goodStep} (the last step with finite losses)`
      : 'parameters restored to those before this step';
    if (this.#start) tf.dispose(this.#start);
    this.#start = null;
    return said;
  }

  /** Undoes the current step only (for an exception that is not a non-finite loss). */
  restoreStart(): void {
    if (this.#start) {
      const s = this.#start;
      this.#vars.forEach((v, i) => v.assign(s[i]));
      tf.dispose(s);
    }
    this.#start = null;
  }

  dispose(): void {
    tf.dispose([...(this.#start ?? []), ...(this.#good ?? [])]);
    this.#start = this.#good = null;
  }
}

/** The parameters of one trained model with their Adam state (one vector) and base learning rate. */
export class TrainGroup {
  #opt: Adam;

  /**
   * @param eps Adam's epsilon (default 1e-7). Use a smaller one for a model whose gradients are
   *   tiny, e.g. G's hypergradient, or the epsilon swamps the normalised step.
   */
  constructor(readonly model: ModelName, readonly params: Params, readonly lr: number, readonly eps = 1e-7) {
    this.#opt = this.#adam();
  }

  #adam(): Adam {
    return new Adam(this.params, { eps: this.eps });
  }

  /** Where each parameter sits in the group's vectors. */
  get layout(): FlatLayout {
    return this.#opt.layout;
  }

  /**
   * Clips the gradient vector `g` to norm `clipNorm` (0 = no clip) and applies one Adam step of
   * `lr`. Returns the norm before clipping: non-finite when any gradient was.
   */
  apply(g: tf.Tensor1D, lr: number, clipNorm: number): tf.Scalar {
    const norm = vectorNorm(g);
    this.#opt.applyClipped(g, norm, clipNorm, lr);
    return norm;
  }

  /** Forgets the moments (after a rollback: they carry the updates that led to it). */
  resetOptimizer(): void {
    this.#opt.dispose();
    this.#opt = this.#adam();
  }

  dispose(): void {
    this.#opt.dispose();
  }
}

/** What a step body returns: the scalars to read, and how to report the numbers read. */
export interface StepOutput {
  /** Losses and statistics of the step, read back in one transfer and checked for NaN/Inf. */
  scalars: Record<string, tf.Scalar>;
  /** The log from the values read (every scalar, finite). */
  report(values: Record<string, number>): StepResult;
}

/** What a step reports: plain numbers for the log. */
export interface StepResult {
  total: number;
  terms: Record<string, number>;
  stats?: Record<string, number>;
}

/**
 * Runs steps with the shared guard: snapshot before, tensors freed after, one read of all the
 * step's numbers at its end, and on a non-finite loss or gradient a rollback of every trained
 * model, an optimizer reset and a log that says so.
 *
 * Updates are applied as the body asks for them, before anything is read: a step that needs
 * its first update's result (td's real step after its meta step) runs without a stall, and a
 * step that went wrong is undone by the rollback, as if it had not moved anything.
 */
export class StepRunner {
  #step = 0;
  readonly #guard: ParamGuard;
  /** Gradient norms of the current step's updates, read with its scalars. */
  #norms: Record<string, tf.Scalar> = {};

  constructor(readonly groups: TrainGroup[], readonly options: CommonOptions, readonly plan: StrategyPlan = CONSTANT_RATE) {
    this.#guard = new ParamGuard(groups.map((g) => g.params));
  }

  get step(): number {
    return this.#step;
  }

  /** The group of `model`. */
  group(model: ModelName): TrainGroup {
    const g = this.groups.find((x) => x.model === model);
    if (!g) throw new Error(`internal: ${model} is not trained by this strategy`);
    return g;
  }

  /** Learning-rate multiplier at `step` (cosine to 10 % over `totalSteps`, or 1). */
  lrScale(step: number): number {
    const n = this.plan.totalSteps;
    return n > 0 ? scheduledLr(Math.min(step, n), { lr: 1, lrMin: 0.1, warmup: 0, steps: n }) : 1;
  }

  /**
   * Applies gradients to the group of `model` at its scheduled learning rate: named (missing
   * names count as zero) or already one vector in the group's layout. `grads` are not disposed.
   */
  update(model: ModelName, grads: NamedTensors | tf.Tensor1D): void {
    const g = this.group(model);
    const flat = grads instanceof tf.Tensor ? grads : g.layout.flatten(grads);
    try {
      const norm = g.apply(flat, g.lr * this.lrScale(this.#step), this.options.clipNorm);
      this.#norms[`${model} gradient`] = norm;
    } finally {
      if (flat !== grads) flat.dispose();
    }
  }

  /** Runs one guarded step. `body` registers its tensors in the bag it is given. */
  async run(body: (bag: Bag) => Promise<StepOutput> | StepOutput): Promise<StrategyStepLog> {
    this.#step += 1;
    const step = this.#step;
    const lr = this.options.lr * this.lrScale(step);
    const t0 = performance.now();
    const bag = new Bag();
    this.#guard.begin(step);
    this.#norms = {};
    try {
      const out = await body(bag);
      const values = await readScalars({ ...out.scalars, ...this.#norms });
      const scalars = Object.fromEntries(Object.keys(out.scalars).map((k) => [k, values[k]]));
      const bad = Object.keys(scalars).find((k) => !Number.isFinite(scalars[k]));
      if (bad !== undefined) throw new NonFiniteError(`loss '${bad}'`, scalars);
      if (Object.keys(this.#norms).some((k) => !Number.isFinite(values[k]))) throw new NonFiniteError('gradient', scalars);
      const r = out.report(scalars);
      this.#guard.commit();
      return { step, total: r.total, terms: r.terms, stats: r.stats ?? {}, ms: performance.now() - t0, skipped: false, restored: false, lr };
    } catch (e) {
      if (!(e instanceof NonFiniteError)) {
        this.#guard.restoreStart();
        throw e;
      }
      const said = this.#guard.rollback();
      for (const g of this.groups) g.resetOptimizer();
      const total = e.terms.total ?? NaN;
      return {
        step, total, terms: e.terms, stats: {}, ms: performance.now() - t0, skipped: true, restored: true, lr,
        note: `step ${step}: ${e.message}; step skipped, ${said}, optimizer moments reset`,
      };
    } finally {
      tf.dispose(Object.values(this.#norms));
      this.#norms = {};
      bag.dispose();
    }
  }

  dispose(): void {
    this.#guard.dispose();
    for (const g of this.groups) g.dispose();
  }
}
