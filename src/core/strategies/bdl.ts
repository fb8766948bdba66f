/**
 * `bdl`: BDLFusion (Liu et al., "Bi-Level Dynamic Learning for Jointly Multi-Modality Image
 * Fusion and Beyond", IJCAI 2023, arXiv:2305.06720). F (θ) is the upper level; two task modules
 * are learnable constraints at the lower level, each with its own parameters y_k:
 *
 * * visual, k = D (discriminator): lower objective f_D(θ, y_D) = D's LSGAN loss, real = the
 *   saliency target `m·IR + (1−m)·VI`, fake = F(x); upper objective
 *   F_D(θ, y_D) = L1(F, T) + 1.1·(1 − SSIM(F, T)) + λ_adv·mean((D(F) − 1)²);
 * * semantic, k = S: lower and upper objective both the task loss `seg·CE + det·CenterNet` of
 *   S(F(x)). Only S's heads (`sParts`, default the segmentation and detection heads) are y_S; the
 *   backbone stays as pretrained. The run's S is a copy: the pretrained S still scores the result.
 *
 * Upper objectives are taken on a held-out batch (x_val), lower ones on the training batch.
 *
 * ## Hypergradient (first order, per task)
 *
 * min_θ Σ_k F_k(θ, y_k*(θ)) s.t. y_k*(θ) = argmin_y f_k(θ, y) has the hypergradient
 * `∇_θ F_k + (∂y_k*(θ) / ∂θ)ᵀ ∇_y F_k`. With one lower step y' = y − η·∇_y f_k(θ, y) (η the
 * lower level's step size, so of the order of D's and S's learning rates), ∂y'/∂θ =
 * −η·∇²_θy f_k, and the implicit term is −η·∇²_θy f_k·∇_y F_k. Two first-order steps remove
 * the second-order product:
 *
 * 1. project the upper gradient in y onto the lower one of the same module,
 *    ∇_y F_k ≈ c_k·∇_y f_k with
 *
 *      c_k = <∇_y f_k(θ, y; x_val), ∇_y f_k(θ, y; x_tr)> / ||∇_y f_k(θ, y; x_tr)||²,
 *
 *    the module's own objective on the held-out and on the training batch (for S, F_S = f_S,
 *    so this is the upper-level gradient itself). c_k > 0 says a lower step that lowers the
 *    module's training loss also lowers its held-out loss;
 * 2. ∇²_θy f_k·∇_y f_k ≈ ∇_θ f̃_k, exact when f_k is a squared residual ½||r(y) − g(θ)||²
 *    (D's LSGAN loss is one; CE is one to second order).
 *
 * Hence
 *
 *   h_k = ∇_θ F_k(θ, y; x_val) − η · c_k · ∇_θ f̃_k(θ, y; x_tr),
 *
 * the gradient of F_k − η·c_k·f̃_k. Reading: when the module will follow (c_k > 0), F need not
 * serve that module's training objective as hard as its upper loss alone says. f̃_S = f_S;
 * f̃_D = the generator's side F_D (∇_θ of D's own loss is its mirror image). c_k is clipped to
 * ±cMax (it explodes when ∇_y f_k → 0 at a lower-level optimum). A frozen module (trainD /
 * trainS false) does not respond to θ, so h_k = ∇_θ F_k. The unit tests check h against the
 * exact one-step hypergradient of a quadratic lower level.
 *
 * Sources: the paper's method section (§3) could not be read here, so no equation numbers are
 * quoted. The authors' code (github.com/LiuZhu-CV/BDLFusion, `architect_average2.py` L75-147)
 * computes c_k as above (between the module's gradients on a validation and a training batch),
 * takes η = the detector's learning rate (2e-4), and forms G_k = ∇_θF_k + η·c_k·∇_θf̃_k, with
 * a plus. The derivation above, and the exact hypergradient in the tests, give a minus: with
 * the plus the step moves away from the exact hypergradient (the test fails), so we keep the
 * minus. Their aggregation draws random weights each step; the paper names dynamic weighted
 * aggregation, which we take from DWA as below.
 *
 * ## Dynamic weighted aggregation
 *
 * `g_θ = Σ_k w_k · h_k` with `w_k = K · softmax_k(r_k / T)`, r_k = L̄_k(n−1) / L̄_k(n−2), the
 * mean upper losses of the last two complete windows of `dwaWindow` steps (Liu, Johns and
 * Davison's DWA, CVPR 2019, takes them per epoch; the session sets one window to one pass over
 * the training pairs). A task whose loss stalls (r near or above 1) gets more weight; w_k = 1
 * until two windows are complete. Per-step ratios would be noise: single-batch losses vary by
 * more than their descent over one step.
 *
 * ## Order within a step
 *
 * All gradients are taken at the same point (θ_t, y_t); only when every loss and gradient is
 * finite do θ (Adam on g_θ), D and S's heads (Adam on ∇_y f_k(x_tr)) move. The lower-level
 * gradient is shared by c_k and the lower step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { bdlFusionLoss, generatorAdversarialLoss, saliencyTarget } from '../losses/fusion-losses';
import { fusion } from '../models/fusion';
import { discriminator } from '../models/discriminator';
import { SEGDET_PARTS, segdetParamNames, type SegDetPart } from '../models/segdet';
import { discriminatorObjective } from '../train/objectives';
import type { Params } from '../types';
import type { StepLosses } from '../train/loop';
import {
  CLASS_WEIGHT_CHOICES, StepRunner, TrainGroup, addScaled, batchTensors, dot, lossAndGrads, readFinite,
  requireTaskTargets, resolveOptions, scaled, taskObjective, type BatchTensors, type LossGrads, type NamedTensors, type OptionRules,
} from './common';
import type { CommonOptions, Strategy, StrategyBatches, StrategyModels, StrategyStepLog, TaskLossOptions } from './types';

// ---------------------------------------------------------------------------------------------
// Pure parts

/**
 * Dynamic weighted aggregation weights `w_k = K · softmax_k((L_k(t−1) / L_k(t−2)) / T)`.
 * @param prev losses L_k(t−1), one per task (null before there are two past steps).
 * @param prevPrev losses L_k(t−2).
 * @param temperature T > 0 (larger → more uniform; DWA uses 2).
 * @param numTasks K when there is no history yet (default: the length of a given list).
 * @returns K weights summing to K; all 1 without history. A ratio that is not a positive
 *   finite number counts as 1 (no descent information).
 */
export function dynamicTaskWeights(
  prev: readonly number[] | null, prevPrev: readonly number[] | null, temperature: number,
  numTasks = (prev ?? prevPrev ?? []).length,
): number[] {
  if (!prev || !prevPrev) return Array<number>(numTasks).fill(1);
  if (prev.length !== prevPrev.length) throw new Error('dynamicTaskWeights: loss lists differ in length');
  if (!(temperature > 0)) throw new Error(`dynamicTaskWeights: temperature must be > 0, got ${temperature}`);
  const k = prev.length;
  const r = prev.map((l, i) => {
    const q = l / prevPrev[i];
    return Number.isFinite(q) && q > 0 ? q : 1;
  });
  const z = r.map((q) => q / temperature);
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => (k * v) / s);
}

/**
 * Mean losses per task over consecutive windows of `window` steps, and the DWA weights from
 * the last two complete windows (see the module comment).
 */
export class DwaWindows {
  #sum: number[];
  #count = 0;
  #done: number[][] = [];

  constructor(readonly numTasks: number, readonly window: number) {
    if (!(window >= 1)) throw new Error(`DwaWindows: window must be ≥ 1 step, got ${window}`);
    this.#sum = Array<number>(numTasks).fill(0);
  }

  /** Adds one step's losses (one per task). */
  push(losses: readonly number[]): void {
    if (losses.length !== this.numTasks) throw new Error('DwaWindows: one loss per task expected');
    losses.forEach((l, i) => { this.#sum[i] += l; });
    if (++this.#count < this.window) return;
    this.#done.push(this.#sum.map((s) => s / this.#count));
    if (this.#done.length > 2) this.#done.shift();
    this.#sum.fill(0);
    this.#count = 0;
  }

  /** Complete windows so far (at most the last two are kept). */
  get completed(): number {
    return this.#done.length;
  }

  /** `w_k` for the next step at temperature `t`. */
  weights(t: number): number[] {
    const d = this.#done;
    return dynamicTaskWeights(d.length === 2 ? d[1] : null, d.length === 2 ? d[0] : null, t, this.numTasks);
  }
}

/** The gradients one task contributes to its hypergradient (see the module comment). */
export interface BdlTaskGradients {
  /** ∇_θ F_k(θ, y_k): upper loss on the held-out batch. */
  upperTheta: NamedTensors;
  /** ∇_y f_k(θ, y_k) on the held-out batch; null when the module is frozen (no implicit term). */
  heldOutY: NamedTensors | null;
  /** ∇_y f_k(θ, y_k) on the training batch; null when frozen. */
  lowerY: NamedTensors | null;
  /** ∇_θ f̃_k(θ, y_k) on the training batch; null when frozen. */
  lowerTildeTheta: NamedTensors | null;
}

/**
 * BDLFusion's first-order hypergradient of one task:
 * `h_k = ∇_θ F_k − η · c_k · ∇_θ f̃_k`,
 * `c_k = clip(<∇_y f_k(x_val), ∇_y f_k(x_tr)> / ||∇_y f_k(x_tr)||², ±cMax)`.
 * With a frozen module (`heldOutY` null) `c_k = 0` and `h_k = ∇_θ F_k`.
 * @returns new tensors: `h` keyed like `upperTheta`, and `c` (a scalar).
 */
export function bdlHypergradient(g: BdlTaskGradients, eta: number, cMax: number): { h: NamedTensors; c: tf.Scalar } {
  if (!g.heldOutY || !g.lowerY || !g.lowerTildeTheta) {
    return { h: tf.tidy(() => Object.fromEntries(Object.entries(g.upperTheta).map(([k, t]) => [k, tf.clone(t)]))), c: tf.scalar(0) };
  }
  const { heldOutY, lowerY, lowerTildeTheta } = g;
  const c = tf.tidy(() => {
    const num = dot(heldOutY, lowerY);
    const den = dot(lowerY, lowerY);
    // 0/0 (no lower gradient at all) gives 0 rather than NaN.
    const raw = tf.div(num, tf.maximum(den, 1e-30));
    return tf.clipByValue(raw, -cMax, cMax) as tf.Scalar;
  });
  const h = tf.tidy(() => addScaled(g.upperTheta, lowerTildeTheta, tf.mul(c, -eta) as tf.Scalar));
  return { h, c };
}

// ---------------------------------------------------------------------------------------------
// Strategy

/** Options of {@link createBdl}. */
export interface BdlOptions extends CommonOptions, TaskLossOptions {
  [key: string]: number | string | boolean;
  /** Learning rate of D's lower-level steps. */
  lrD: number;
  /** Learning rate of S's lower-level steps (its heads by default). */
  lrS: number;
  /** Whether D takes lower-level steps (false: D frozen, no implicit visual term). */
  trainD: boolean;
  /** Whether S takes lower-level steps (false: S frozen, no implicit semantic term). */
  trainS: boolean;
  /** Which parts of S are its lower-level variables y_S when `trainS`. */
  sParts: SParts;
  /** η: the lower level's step size in y' = y − η∇_y f_k, which scales the implicit term. */
  eta: number;
  /** Bound on |c_k|. */
  cMax: number;
  /** DWA temperature T. */
  temperature: number;
  /** DWA window in steps (0: one pass over the training pairs, set by the fine-tune session; alone 10). */
  dwaWindow: number;
  /** λ_adv: weight of the adversarial term in the visual upper loss. */
  adversarial: number;
  /** Weight of `1 − SSIM(F, T)` in the visual upper loss (BDLFusion: 1.1). */
  ssimWeight: number;
}

/** Choices of `sParts`: S's heads, heads and the CenterNet decoder, or all of S. */
export const S_PARTS_CHOICES = ['heads', 'decoder+heads', 'all'] as const;
export type SParts = (typeof S_PARTS_CHOICES)[number];

const S_PARTS: Record<SParts, readonly SegDetPart[]> = {
  heads: ['seg', 'det'], 'decoder+heads': ['decoder', 'seg', 'det'], all: SEGDET_PARTS,
};

/** DWA window when neither the option nor a session sets one. */
const DWA_WINDOW_ALONE = 10;

/**
 * Defaults. S's heads are the semantic lower level (the backbone stays pretrained). η is the
 * order of the lower levels' learning rates, as its definition (the lower step size) says.
 */
export const BDL_DEFAULTS: BdlOptions = {
  lr: 1e-4, clipNorm: 5, totalSteps: 0,
  lrD: 1e-4, lrS: 1e-4, trainD: true, trainS: true, sParts: 'heads',
  eta: 1e-4, cMax: 10, temperature: 2, dwaWindow: 0, adversarial: 0.1, ssimWeight: 1.1,
  segmentation: 1, detection: 1, classWeights: 'msrs',
};

/** Allowed values of the string options and ranges of the numeric ones. */
export const BDL_RULES: OptionRules<BdlOptions> = {
  choices: { classWeights: CLASS_WEIGHT_CHOICES, sParts: S_PARTS_CHOICES },
  bounds: { eta: [0, 1], temperature: [0.05, 100], dwaWindow: [0, 100000] },
};

/** The two tasks, in the order of weights and losses. */
export const BDL_TASKS = ['visual', 'task'] as const;

/**
 * Creates the `bdl` strategy; needs F, D and S.
 * @throws on bad options or a missing model.
 */
export function createBdl(models: StrategyModels, given: Partial<BdlOptions> = {}): Strategy {
  const o = resolveOptions('bdl', BDL_DEFAULTS, given, BDL_RULES);
  if (!models.discriminator) throw new Error('bdl: needs the discriminator D (visual lower level)');
  if (!models.segdet) throw new Error('bdl: needs the segmenter S (semantic lower level)');
  if (o.segmentation <= 0 && o.detection <= 0) throw new Error('bdl: the semantic task needs a segmentation or detection weight > 0');
  const F = models.fusion;
  const D = models.discriminator;
  const S = models.segdet;
  // y_S: the moving part of S; the rest of S is read as a constant.
  const yS: Params = Object.fromEntries(segdetParamNames(S_PARTS[o.sParts]).map((n) => [n, S[n]]));
  const groups = [new TrainGroup('fusion', F, o.lr)];
  if (o.trainD) groups.push(new TrainGroup('discriminator', D, o.lrD));
  if (o.trainS) groups.push(new TrainGroup('segdet', yS, o.lrS));
  const runner = new StepRunner(groups, o);
  const dwa = new DwaWindows(BDL_TASKS.length, o.dwaWindow > 0 ? o.dwaWindow : DWA_WINDOW_ALONE);

  /** F_D on a batch: BDLFusion's fusion loss plus the adversarial term. */
  const visualUpper = (t: BatchTensors) => (): StepLosses => {
    const fused = fusion.apply(F, t.x);
    const fl = bdlFusionLoss(fused, t.ir, t.vi, { ssimWeight: o.ssimWeight });
    if (o.adversarial <= 0) return { total: fl, terms: { fusion: tf.clone(fl) as tf.Scalar } };
    const adv = generatorAdversarialLoss(discriminator.apply(D, fused));
    return { total: tf.add(fl, tf.mul(adv, o.adversarial)) as tf.Scalar, terms: { fusion: fl, adversarial: adv } };
  };
  const taskLoss = (t: BatchTensors) => (): StepLosses => taskObjective(S, fusion.apply(F, t.x), t, o);
  /** f_D on a batch: D's LSGAN loss with F(x) a constant (computed outside the tape). */
  const discriminatorLossAndGrads = (t: BatchTensors): LossGrads => {
    const fake = tf.tidy(() => fusion.apply(F, t.x));
    const real = saliencyTarget(t.ir, t.vi);
    try {
      return lossAndGrads(() => discriminatorObjective(discriminator.apply(D, real), discriminator.apply(D, fake)), { discriminator: D });
    } finally {
      tf.dispose([fake, real]);
    }
  };

  const step = (batches: StrategyBatches): Promise<StrategyStepLog> => runner.run(async (bag) => {
    requireTaskTargets(batches.train, o, 'bdl');
    if (batches.heldOut) requireTaskTargets(batches.heldOut, o, 'bdl');
    const tr = bag.add(batchTensors(batches.train, 32));
    const va = batches.heldOut ? bag.add(batchTensors(batches.heldOut, 32)) : tr;

    // Upper level on the held-out batch: ∇θ F_k; for S also ∇y f_S(x_val) (F_S = f_S).
    const upD: LossGrads = bag.add(lossAndGrads(visualUpper(va), { fusion: F }));
    const upS: LossGrads = bag.add(lossAndGrads(taskLoss(va), o.trainS ? { fusion: F, segdet: yS } : { fusion: F }));
    // D's own objective on both batches (c_D), and the generator side on the training batch (f̃_D).
    let valD: LossGrads | null = null;
    let lowD: LossGrads | null = null;
    let tildeD: LossGrads | null = null;
    if (o.trainD) {
      valD = bag.add(discriminatorLossAndGrads(va));
      lowD = bag.add(discriminatorLossAndGrads(tr));
      tildeD = bag.add(lossAndGrads(visualUpper(tr), { fusion: F }));
    }
    const lowS: LossGrads | null = o.trainS ? bag.add(lossAndGrads(taskLoss(tr), { fusion: F, segdet: yS })) : null;

    const scalars: Record<string, tf.Scalar> = { visual: upD.value, task: upS.value, ...upD.terms, ...upS.terms };
    if (lowD) scalars.discriminator = lowD.value;
    if (tildeD) scalars.visualTrain = tildeD.value;
    if (lowS) scalars.taskTrain = lowS.value;
    const grads = [upD, upS, valD, lowD, tildeD, lowS].flatMap((r) => (r ? Object.values(r.grads) : [])) as NamedTensors[];
    const v = await readFinite(scalars, grads);

    const hD = bag.add(bdlHypergradient({
      upperTheta: upD.grads.fusion!, heldOutY: valD?.grads.discriminator ?? null,
      lowerY: lowD?.grads.discriminator ?? null, lowerTildeTheta: tildeD?.grads.fusion ?? null,
    }, o.eta, o.cMax));
    const hS = bag.add(bdlHypergradient({
      upperTheta: upS.grads.fusion!, heldOutY: upS.grads.segdet ?? null,
      lowerY: lowS?.grads.segdet ?? null, lowerTildeTheta: lowS?.grads.fusion ?? null,
    }, o.eta, o.cMax));
    const w = dwa.weights(o.temperature);
    const g = bag.add(tf.tidy(() => addScaled(scaled(hD.h, w[0]), hS.h, w[1])));
    const c = await readFinite({ visual: hD.c, task: hS.c });

    runner.update('fusion', g);
    if (lowD) runner.update('discriminator', lowD.grads.discriminator!);
    if (lowS) runner.update('segdet', lowS.grads.segdet!);
    dwa.push([v.visual, v.task]);

    const { visual, task, ...rest } = v;
    return {
      total: w[0] * visual + w[1] * task,
      terms: { visual, task, ...rest },
      stats: { 'w.visual': w[0], 'w.task': w[1], 'c.visual': c.visual, 'c.task': c.task },
    };
  });

  return {
    name: 'bdl',
    options: o,
    moves: groups.map((g) => g.model),
    usesHeldOut: true,
    get stepCount() { return runner.step; },
    step,
    dispose: () => runner.dispose(),
  };
}
