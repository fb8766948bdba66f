/**
 * Machinery shared by the strategies: crop batches as tensors, gradients keyed by model and
 * parameter name, one Adam per trained model (over one vector), the non-finite guard with
 * parameter rollback and one read per step, the task objective on S, and option checking.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../types';
import type { ModelName } from '../models/registry';
import { segdet } from '../models/segdet';
import type { CropBatch } from '../train/batch';
import { scheduledLr, type StepLosses } from '../train/loop';
import { readScalars } from '../train/read';
import { Adam, FlatLayout, vectorNorm, type NamedTensors } from '../train/flat';
import { variableGradsOf } from '../nn/split-grad';
import { DEFAULT_SEGDET_WEIGHTS, segdetObjective } from '../train/objectives';
import { msrsClassWeights } from '../losses/task-losses';
import { encodeBatch, type DetectionTargetTensors } from '../detect/centernet';
import { cropBoxes } from '../detect/boxes';
import { fusedRgb } from '../image/tensor';
import type { GroundTruthBox } from '../types';
import { CONSTANT_RATE, type CommonOptions, type StrategyPlan, type StrategyStepLog, type TaskLossOptions } from './types';

export type { NamedTensors } from '../train/flat';

// ---------------------------------------------------------------------------------------------
// Batches

/** One crop batch as tensors, cut to a multiple of the models' stride. All owned by the holder. */
export interface BatchTensors {
  batch: number;
  height: number;
  width: number;
  /** `[B,h,w,2]` = (IR, Y_vis) in [0,1]: the input of F and G. */
  x: tf.Tensor4D;
  /** `[B,h,w,1]` each. */
  ir: tf.Tensor4D;
  vi: tf.Tensor4D;
  /** `[B,h,w,2]` visible (Cb, Cr), when the batch has colour: S sees the fused Y in colour. */
  chroma: tf.Tensor4D | null;
  /** `[B,h,w]` int32 class indices, when the batch has labels. */
  labels: tf.Tensor3D | null;
  /** CenterNet targets at `h/4 × w/4`, when the batch has boxes. */
  targets: DetectionTargetTensors | null;
}

/**
 * Turns a {@link CropBatch} into tensors, keeping the top-left `h×w` with h, w the largest
 * multiples of `multiple` (the models' strides must divide the input size). Boxes are clipped
 * to the kept window (boxes keeping < 40 % of their area are dropped, as in `sampleCrops`).
 * @throws if the crop is smaller than `multiple`.
 */
export function batchTensors(b: CropBatch, multiple: number): BatchTensors {
  const h = Math.floor(b.height / multiple) * multiple;
  const w = Math.floor(b.width / multiple) * multiple;
  if (h === 0 || w === 0) {
    throw new Error(`crops of ${b.width}x${b.height} px are smaller than the models' stride ${multiple}: use larger crops`);
  }
  const n = h * w;
  const irvi = new Float32Array(b.batch * n * 2);
  const ir = new Float32Array(b.batch * n);
  const vi = new Float32Array(b.batch * n);
  const labels = b.label ? new Int32Array(b.batch * n) : null;
  const chroma = b.chroma ? new Float32Array(b.batch * n * 2) : null;
  for (let i = 0; i < b.batch; i++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const s = (i * b.height + y) * b.width + x;
        const d = (i * h + y) * w + x;
        ir[d] = irvi[2 * d] = b.irvi[2 * s];
        vi[d] = irvi[2 * d + 1] = b.irvi[2 * s + 1];
        if (labels) labels[d] = b.label![s];
        if (chroma) {
          chroma[2 * d] = b.chroma![2 * s];
          chroma[2 * d + 1] = b.chroma![2 * s + 1];
        }
      }
    }
  }
  let targets: DetectionTargetTensors | null = null;
  if (b.boxes) {
    const cut = h !== b.height || w !== b.width;
    const boxes: GroundTruthBox[][] = b.boxes.map((bs) => (cut ? cropBoxes(bs, 0, 0, w, h) : bs));
    targets = encodeBatch(boxes, h, w);
  }
  return {
    batch: b.batch, height: h, width: w,
    x: tf.tensor4d(irvi, [b.batch, h, w, 2]),
    ir: tf.tensor4d(ir, [b.batch, h, w, 1]),
    vi: tf.tensor4d(vi, [b.batch, h, w, 1]),
    chroma: chroma ? tf.tensor4d(chroma, [b.batch, h, w, 2]) : null,
    labels: labels ? tf.tensor3d(labels, [b.batch, h, w], 'int32') : null,
    targets,
  };
}

// ---------------------------------------------------------------------------------------------
// Tensor bookkeeping

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

// ---------------------------------------------------------------------------------------------
// Gradients

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

// ---------------------------------------------------------------------------------------------
// Non-finite guard

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

// ---------------------------------------------------------------------------------------------
// Optimisation

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

// ---------------------------------------------------------------------------------------------
// Task objective

/** Whether a batch has something for the task terms of `o` to learn from. */
export function hasTaskTargets(b: CropBatch, o: TaskLossOptions): boolean {
  return (o.segmentation > 0 && !!b.label) || (o.detection > 0 && !!b.boxes);
}

/** Throws a clear error when task terms are on but the batch has no labels and no boxes. */
export function requireTaskTargets(b: CropBatch, o: TaskLossOptions, strategy: string): void {
  if (!hasTaskTargets(b, o)) {
    throw new Error(`${strategy}: the task terms need labels (segmentation) or boxes (detection) in every batch; ` +
      'give unlabelled pairs pseudo-labels from the pretrained segmenter, or set both task weights to 0');
  }
}

/**
 * The task loss of S on a fused image: `segmentation·CE + detection·CenterNet` (objectives.ts
 * `segdetObjective`), with the terms whose targets the batch lacks left out.
 * @param fused `[B,h,w,1]` in [0,1], h and w multiples of 32; S sees it coloured with the batch's
 *   visible chroma.
 */
export function taskObjective(sParams: Params, fused: tf.Tensor4D, t: BatchTensors, o: TaskLossOptions): StepLosses {
  return taskLoss(segdet.apply(sParams, fusedRgb(fused, t.chroma)), t, o);
}

/** The task loss of S's outputs `out` on the batch `t` (see {@link taskObjective}). */
export function taskLoss(out: { seg: tf.Tensor4D; det: tf.Tensor4D }, t: BatchTensors, o: TaskLossOptions): StepLosses {
  const labels = o.segmentation > 0 ? t.labels : null;
  const targets = o.detection > 0 ? t.targets : null;
  return segdetObjective(out, labels, targets, {
    segmentation: o.segmentation,
    detection: o.detection,
    detectionTerms: DEFAULT_SEGDET_WEIGHTS.detectionTerms,
    classWeights: o.classWeights === 'msrs' ? msrsClassWeights() : undefined,
  });
}

// ---------------------------------------------------------------------------------------------
// Options

/** An option value: options are flat and JSON-serialisable. */
export type OptionValue = number | string | boolean;

/** Allowed values of string options and closed ranges `[min, max]` of numeric ones. */
export interface OptionRules<T> {
  choices?: Partial<Record<keyof T, readonly string[]>>;
  bounds?: Partial<Record<keyof T, readonly [number, number]>>;
}

/**
 * Fills `given` over `defaults`, checking names, types, choices and bounds (plain data arrives
 * from the worker and the command line). Numbers must be finite and ≥ 0 unless bounded.
 * @throws naming the strategy, the option and what is allowed.
 */
export function resolveOptions<T extends Record<string, OptionValue>>(
  strategy: string, defaults: T, given: Partial<Record<string, unknown>> = {}, rules: OptionRules<T> = {},
): T {
  const out: Record<string, OptionValue> = { ...defaults };
  for (const [k, v] of Object.entries(given)) {
    if (v === undefined) continue;
    if (!(k in defaults)) {
      throw new Error(`${strategy}: unknown option '${k}' (options: ${Object.keys(defaults).join(', ')})`);
    }
    const want = typeof defaults[k];
    if (typeof v !== want) throw new Error(`${strategy}: option '${k}' must be a ${want}, got ${JSON.stringify(v)}`);
    if (want === 'number' && !Number.isFinite(v as number)) throw new Error(`${strategy}: option '${k}' must be finite`);
    const range = rules.bounds?.[k as keyof T];
    if (range && ((v as number) < range[0] || (v as number) > range[1])) {
      throw new Error(`${strategy}: option '${k}' must be within [${range[0]}, ${range[1]}], got ${String(v)}`);
    }
    if (want === 'number' && (v as number) < 0) throw new Error(`${strategy}: option '${k}' must be ≥ 0, got ${String(v)}`);
    const allowed = rules.choices?.[k as keyof T];
    if (allowed && !allowed.includes(v as string)) {
      throw new Error(`${strategy}: option '${k}' must be one of ${allowed.join(', ')}, got '${String(v)}'`);
    }
    out[k] = v as OptionValue;
  }
  return out as T;
}

/** Allowed values of the `classWeights` option. */
export const CLASS_WEIGHT_CHOICES = ['msrs', 'uniform'] as const;
