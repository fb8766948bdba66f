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
 * All gradients are taken at the same point (θ_t, y_t). First the lower levels' gradients in y
 * on both batches (cheap: with F(x) a constant only D, or S's heads, run backward), which give
 * c_k and the lower steps; then one pass for θ, with the held-out and training crops stacked
 * along the batch axis, whose gradient is Σ_k w_k·h_k. θ (Adam on g_θ), D and S's heads (Adam on
 * ∇_y f_k(x_tr)) then move; a non-finite loss or gradient, found by the step's one read at its
 * end, undoes all three.
 */
import * as tf from '@tensorflow/tfjs-core';
import { bdlFusionLoss, generatorAdversarialLoss, irSaliency, saliencyTarget } from '../losses/fusion-losses';
import { fusion } from '../models/fusion';
import { discriminator } from '../models/discriminator';
import { SEGDET_PARTS, segdet, segdetFeatures, segdetHeads, segdetParamNames, type SegDetPart } from '../models/segdet';
import { PRETRAIN_FUSION_WEIGHTS, discriminatorObjective, fusionObjective } from '../train/objectives';
import type { Params } from '../types';
import type { StepLosses } from '../train/loop';
import { fusedRgb } from '../image/tensor';
import { FlatLayout } from '../train/flat';
import { CLASS_WEIGHT_CHOICES, resolveOptions, type OptionRules } from './options';
import { StepRunner, TrainGroup, dot, lossAndGrads, type LossGrads, type NamedTensors } from './step-runner';
import { batchTensors, type BatchTensors } from './batch-tensors';
import { requireTaskTargets, taskLoss, taskObjective } from './task-terms';
import { COMMON_DEFAULTS, CONSTANT_RATE, type CommonOptions, type Strategy, type StrategyBatches, type StrategyModels, type StrategyPlan, type StrategyStepLog, type TaskLossOptions } from './types';

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
 * `c_k = clip(<∇_y f_k(x_val), ∇_y f_k(x_tr)> / ||∇_y f_k(x_tr)||², ±cMax)` of two gradient
 * vectors; 0 when the training gradient is 0 (rather than 0/0).
 */
export function bdlCoefficient(heldOutY: tf.Tensor1D, lowerY: tf.Tensor1D, cMax: number): tf.Scalar {
  return tf.tidy(() => {
    const raw = tf.div(dot(heldOutY, lowerY), tf.maximum(dot(lowerY, lowerY), 1e-30));
    return tf.clipByValue(raw, -cMax, cMax) as tf.Scalar;
  });
}

/**
 * c_k over more than one batch pair: the two inner products of {@link bdlCoefficient} averaged
 * over about the last `window` steps (exponential moving averages with β = 1 − 1/window; their
 * start-up bias cancels in the ratio), then divided and clipped. A single pair's c_k is the
 * ratio of two noisy inner products and swings in sign from step to step (−9 to +3 within ten
 * steps on MSRS), where the quantity it estimates, how a lower step on the training batch moves
 * the held-out objective, changes slowly with θ and y. window = 1 is the single pair. A
 * non-finite product leaves the averages as they were (the step is undone anyway).
 */
export class PooledCoefficient {
  readonly #num = tf.tidy(() => tf.variable(tf.scalar(0), false));
  readonly #den = tf.tidy(() => tf.variable(tf.scalar(0), false));

  constructor(readonly window: number, readonly cMax: number) {
    if (!(window >= 1)) throw new Error(`PooledCoefficient: window must be ≥ 1, got ${window}`);
  }

  /** Adds one pair's gradients and returns c_k over the pairs so far (a new scalar). */
  next(heldOutY: tf.Tensor1D, lowerY: tf.Tensor1D): tf.Scalar {
    const beta = 1 - 1 / this.window;
    return tf.tidy(() => {
      const mix = (avg: tf.Variable, x: tf.Scalar) => {
        const next = tf.add(tf.mul(avg, beta), tf.mul(x, 1 - beta));
        avg.assign(tf.where(tf.isFinite(next), next, avg) as tf.Scalar);
      };
      mix(this.#num, dot(heldOutY, lowerY));
      mix(this.#den, dot(lowerY, lowerY));
      return tf.clipByValue(tf.div(this.#num, tf.maximum(this.#den, 1e-30)), -this.cMax, this.cMax) as tf.Scalar;
    });
  }

  dispose(): void {
    this.#num.dispose();
    this.#den.dispose();
  }
}

/**
 * BDLFusion's first-order hypergradient of one task, from its four gradients:
 * `h_k = ∇_θ F_k − η · c_k · ∇_θ f̃_k` with c_k from {@link bdlCoefficient}. With a frozen
 * module (`heldOutY` null) `c_k = 0` and `h_k = ∇_θ F_k`. The strategy takes Σ_k w_k·h_k in one
 * pass as the gradient of Σ_k w_k·(F_k − η·c_k·f̃_k) (c_k a constant there); this is that sum's
 * term spelled out, which the tests hold against the exact hypergradient.
 * @returns new tensors: `h` keyed like `upperTheta`, and `c` (a scalar).
 */
export function bdlHypergradient(g: BdlTaskGradients, eta: number, cMax: number): { h: NamedTensors; c: tf.Scalar } {
  if (!g.heldOutY || !g.lowerY || !g.lowerTildeTheta) {
    return { h: tf.tidy(() => Object.fromEntries(Object.entries(g.upperTheta).map(([k, t]) => [k, tf.clone(t)]))), c: tf.scalar(0) };
  }
  const y = new FlatLayout(g.heldOutY);
  const theta = new FlatLayout(g.upperTheta);
  const { lowerTildeTheta, upperTheta } = g;
  const c = tf.tidy(() => bdlCoefficient(y.flatten(g.heldOutY!), y.flatten(g.lowerY!), cMax));
  const h = tf.tidy(() => theta.unflatten(tf.sub(theta.flatten(upperTheta), tf.mul(theta.flatten(lowerTildeTheta), tf.mul(c, eta))) as tf.Tensor1D));
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
  /** Steps whose batch pairs c_k is estimated over (1: the step's own pair, as the authors; see PooledCoefficient). */
  cWindow: number;
  /**
   * The visual upper loss F_D besides the adversarial term: `saliency`, BDLFusion's
   * `L1(F, T) + ssimWeight·(1 − SSIM(F, T))` to the saliency target T; `pretraining`, the loss
   * F was pretrained on (max intensity, max gradient, SSIM to both sources), so that the visual
   * level holds F where it was rather than pulling it to a new target.
   */
  visualLoss: VisualLoss;
  /** DWA temperature T. */
  temperature: number;
  /** DWA window in steps (0: one pass over the training pairs, set by the fine-tune session; alone 10). */
  dwaWindow: number;
  /** λ_adv: weight of the adversarial term in the visual upper loss. */
  adversarial: number;
  /** Weight of `1 − SSIM(F, T)` in the visual upper loss (BDLFusion: 1.1). */
  ssimWeight: number;
}

/** Choices of `visualLoss`. */
export const VISUAL_LOSS_CHOICES = ['saliency', 'pretraining'] as const;
export type VisualLoss = (typeof VISUAL_LOSS_CHOICES)[number];

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
  ...COMMON_DEFAULTS,
  lrD: 1e-4, lrS: 1e-4, trainD: true, trainS: true, sParts: 'heads',
  eta: 1e-4, cMax: 10, cWindow: 1, visualLoss: 'saliency', temperature: 2, dwaWindow: 0, adversarial: 0.1, ssimWeight: 1.1,
  segmentation: 1, detection: 1, classWeights: 'msrs',
};

/** Allowed values of the string options and ranges of the numeric ones. */
export const BDL_RULES: OptionRules<BdlOptions> = {
  choices: { classWeights: CLASS_WEIGHT_CHOICES, sParts: S_PARTS_CHOICES, visualLoss: VISUAL_LOSS_CHOICES },
  bounds: { eta: [0, 1], temperature: [0.05, 100], dwaWindow: [0, 100000], cWindow: [1, 100000] },
};

/** The two tasks, in the order of weights and losses. */
export const BDL_TASKS = ['visual', 'task'] as const;

/**
 * Creates the `bdl` strategy; needs F, D and S.
 * @throws on bad options or a missing model.
 */
export function createBdl(models: StrategyModels, given: Partial<BdlOptions> = {}, plan: StrategyPlan = CONSTANT_RATE): Strategy {
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
  const runner = new StepRunner(groups, o, plan);
  const dwa = new DwaWindows(BDL_TASKS.length, o.dwaWindow > 0 ? o.dwaWindow : DWA_WINDOW_ALONE);

  /** F_D of fused images: the visual loss (`visualLoss`; saliency map `sal`) plus the adversarial term. */
  const visualUpper = (fused: tf.Tensor4D, t: BatchTensors, sal: tf.Tensor4D, dOut: tf.Tensor4D | null): StepLosses => {
    const fl = o.visualLoss === 'pretraining'
      ? fusionObjective(fused, t.ir, t.vi, PRETRAIN_FUSION_WEIGHTS).total
      : bdlFusionLoss(fused, t.ir, t.vi, { ssimWeight: o.ssimWeight, saliency: sal });
    if (!dOut) return { total: fl, terms: { fusion: tf.clone(fl) as tf.Scalar } };
    const adv = generatorAdversarialLoss(dOut);
    return { total: tf.add(fl, tf.mul(adv, o.adversarial)) as tf.Scalar, terms: { fusion: fl, adversarial: adv } };
  };
  const pooled = o.cWindow > 1
    ? { discriminator: new PooledCoefficient(o.cWindow, o.cMax), segdet: new PooledCoefficient(o.cWindow, o.cMax) } : null;
  /** c_k of a module from its objective's gradients in y on the held-out and the training batch. */
  const coefficient = (model: 'discriminator' | 'segdet', val: LossGrads, low: LossGrads): tf.Scalar => {
    const layout = runner.group(model).layout;
    return tf.tidy(() => {
      const [v, l] = [layout.flatten(val.grads[model]!), layout.flatten(low.grads[model]!)];
      return pooled ? pooled[model].next(v, l) : bdlCoefficient(v, l, o.cMax);
    });
  };
  // With y_S = S's heads, f_S's gradient in y needs only the heads run on S's features, which
  // do not depend on y: those are computed once for both batches, outside any tape.
  const headsOnly = o.sParts === 'heads';

  const step = (batches: StrategyBatches): Promise<StrategyStepLog> => runner.run(async (bag) => {
    requireTaskTargets(batches.train, o, 'bdl');
    if (batches.heldOut) requireTaskTargets(batches.heldOut, o, 'bdl');
    const tr = bag.add(batchTensors(batches.train, 32));
    const va = batches.heldOut ? bag.add(batchTensors(batches.heldOut, 32)) : tr;
    // The held-out and training crops stacked along the batch axis: every model runs once on
    // both, and `half` takes each batch's part of a result back out.
    const split = va !== tr;
    const bv = va.batch;
    const half = <T extends tf.Tensor>(t: T, which: 'val' | 'tr'): T => {
      if (!split) return tf.clone(t); // a new tensor either way: the caller owns it
      const begin = t.shape.map((_, i) => (i === 0 && which === 'tr' ? bv : 0));
      const size = t.shape.map((n, i) => (i === 0 ? (which === 'val' ? bv : n - bv) : -1));
      return tf.slice(t, begin, size) as T;
    };
    const x = split ? bag.add(tf.concat([va.x, tr.x])) as tf.Tensor4D : tr.x;
    // The stacked visible chroma (null: grey), made once; undefined when one batch has colour and
    // the other not, which then are coloured apart.
    const chroma = !split ? tr.chroma
      : va.chroma && tr.chroma ? bag.add(tf.concat([va.chroma, tr.chroma])) as tf.Tensor4D
        : !va.chroma && !tr.chroma ? null : undefined;
    const rgbOf = (fused: tf.Tensor4D) => chroma !== undefined
      ? fusedRgb(fused, chroma)
      : tf.concat([fusedRgb(half(fused, 'val'), va.chroma), fusedRgb(half(fused, 'tr'), tr.chroma)]) as tf.Tensor4D;
    const salVa = bag.add(irSaliency(va.ir));
    const salTr = split ? bag.add(irSaliency(tr.ir)) : salVa;

    // 1. The lower levels' gradients in y on both batches, at θ: c_k, and the lower steps.
    //    F(x) (and S's features) are constants here, computed once for both batches.
    const fused0 = bag.add(tf.tidy(() => fusion.apply(F, x)));
    const lowerD = (t: BatchTensors, which: 'val' | 'tr', sal: tf.Tensor4D): LossGrads => {
      const fake = tf.tidy(() => half(fused0, which));
      const real = saliencyTarget(t.ir, t.vi, sal);
      try {
        return lossAndGrads(() => discriminatorObjective(discriminator.apply(D, real), discriminator.apply(D, fake)), { discriminator: D });
      } finally {
        tf.dispose([fake, real]);
      }
    };
    const valD = o.trainD ? bag.add(lowerD(va, 'val', salVa)) : null;
    const lowD = o.trainD ? bag.add(lowerD(tr, 'tr', salTr)) : null;
    let valS: LossGrads | null = null;
    let lowS: LossGrads | null = null;
    if (o.trainS) {
      const feats = headsOnly ? bag.add(tf.tidy(() => segdetFeatures(S, rgbOf(fused0)))) : null;
      const lowerS = (t: BatchTensors, which: 'val' | 'tr'): LossGrads => {
        if (feats) {
          const f = tf.tidy(() => ({ f2: half(feats.f2, which), f4: half(feats.f4, which) }));
          try {
            return lossAndGrads(() => taskLoss(segdetHeads(S, f), t, o), { segdet: yS });
          } finally {
            tf.dispose([f.f2, f.f4]);
          }
        }
        const fused = tf.tidy(() => half(fused0, which));
        try {
          return lossAndGrads(() => taskObjective(S, fused, t, o), { segdet: yS });
        } finally {
          fused.dispose();
        }
      };
      valS = bag.add(lowerS(va, 'val'));
      lowS = bag.add(lowerS(tr, 'tr'));
    }
    const cD = bag.add(valD && lowD ? coefficient('discriminator', valD, lowD) : tf.scalar(0));
    const cS = bag.add(valS && lowS ? coefficient('segdet', valS, lowS) : tf.scalar(0));

    // 2. θ's gradient Σ_k w_k·h_k in one pass, as that of Σ_k w_k·(F_k(x_val) − η·c_k·f̃_k(x_tr)).
    const w = dwa.weights(o.temperature);
    const theta = bag.add(lossAndGrads(() => {
      const fused = fusion.apply(F, x);
      const dOut = o.adversarial > 0 ? discriminator.apply(D, fused) : null;
      const sOut = segdet.apply(S, rgbOf(fused));
      const visualVal = visualUpper(half(fused, 'val'), va, salVa, dOut && half(dOut, 'val'));
      const visualTr = visualUpper(half(fused, 'tr'), tr, salTr, dOut && half(dOut, 'tr'));
      const taskVal = taskLoss({ seg: half(sOut.seg, 'val'), det: half(sOut.det, 'val') }, va, o);
      const taskTr = taskLoss({ seg: half(sOut.seg, 'tr'), det: half(sOut.det, 'tr') }, tr, o);
      // c_k = 0 for a frozen module: the implicit term vanishes.
      const visual = tf.sub(visualVal.total, tf.mul(visualTr.total, tf.mul(cD, o.eta)));
      const task = tf.sub(taskVal.total, tf.mul(taskTr.total, tf.mul(cS, o.eta)));
      return {
        total: tf.add(tf.mul(visual, w[0]), tf.mul(task, w[1])) as tf.Scalar,
        terms: {
          visual: visualVal.total, task: taskVal.total, ...visualVal.terms, ...taskVal.terms,
          visualTrain: visualTr.total, taskTrain: taskTr.total,
        },
      };
    }, { fusion: F }));

    runner.update('fusion', theta.grads.fusion!);
    if (lowD) runner.update('discriminator', lowD.grads.discriminator!);
    if (lowS) runner.update('segdet', lowS.grads.segdet!);

    const scalars: Record<string, tf.Scalar> = { ...theta.terms, 'c.visual': cD, 'c.task': cS };
    if (lowD) scalars.discriminator = lowD.value;
    return {
      scalars,
      report: ({ 'c.visual': cVisual, 'c.task': cTask, ...terms }) => {
        dwa.push([terms.visual, terms.task]);
        return {
          total: w[0] * terms.visual + w[1] * terms.task,
          terms,
          stats: { 'w.visual': w[0], 'w.task': w[1], 'c.visual': cVisual, 'c.task': cTask },
        };
      },
    };
  });

  return {
    name: 'bdl',
    options: o,
    moves: groups.map((g) => g.model),
    usesHeldOut: true,
    get stepCount() { return runner.step; },
    step,
    dispose: () => {
      runner.dispose();
      if (pooled) Object.values(pooled).forEach((p) => p.dispose());
    },
  };
}
