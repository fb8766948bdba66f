/**
 * `bdl`: BDLFusion (Liu et al., "Bi-Level Dynamic Learning for Jointly Multi-Modality Image
 * Fusion and Beyond", IJCAI 2023). F (θ) is the upper level; two task modules are learnable
 * constraints at the lower level, each with its own parameters y_k:
 *
 * * visual, k = D (discriminator): lower loss f_D(θ, y_D) = LSGAN discriminator loss, real =
 *   the saliency target `m·IR + (1−m)·VI`, fake = F(x); upper loss
 *   F_D(θ, y_D) = L1(F, T) + 1.1·(1 − SSIM(F, T)) + λ_adv·mean((D(F) − 1)²);
 * * semantic, k = S (segmenter + detector): lower and upper loss both the task loss
 *   `seg·CE + det·CenterNet` of S(F(x)).
 *
 * Upper losses F_k are taken on a held-out batch, lower losses f_k on the training batch.
 *
 * ## Hypergradient (first order, per task)
 *
 * One lower step y_k' = y_k − η·∇_y f_k(θ, y_k) makes the upper loss depend on θ through y_k':
 * `d/dθ F_k(θ, y_k') = ∇_θ F_k − η·∇²_θy f_k·∇_y F_k`. BDLFusion drops the second-order product
 * for a first-order surrogate: it projects the upper gradient in y onto the lower one,
 *
 *   c_k = <∇_y F_k, ∇_y f_k> / ||∇_y f_k||²,
 *
 * and replaces the mixed term by a multiple of a first-order θ-gradient:
 *
 *   h_k = ∇_θ F_k(θ, y_k) + η · c_k · ∇_θ f̃_k(θ, y_k).
 *
 * f̃_k is the lower-level objective seen from θ: for S it is f_S itself (task loss on the
 * training batch); for D it is the generator's side of the game, i.e. F_D on the training
 * batch, because ∇_θ of the discriminator's own loss points the wrong way (it rewards fused
 * images that look fake). This follows DESIGN §1 and the authors' published code (their
 * "GN_loss" = −c_k·f̃_k, subtracted with step η). Reading: c_k > 0 when lowering the module's
 * training loss also lowers its held-out loss, and then F is pushed to serve that module's
 * training objective too. c_k is clipped to ±cMax (it explodes when ∇_y f_k → 0, i.e. when
 * the lower level sits at its optimum). A frozen module (trainS / trainD false) does not
 * respond to θ, so its implicit term is exactly zero: h_k = ∇_θ F_k.
 *
 * ## Dynamic weighted aggregation
 *
 * `g_θ = Σ_k w_k · h_k` with `w_k = K · softmax_k( (L_k(t−1) / L_k(t−2)) / T )` (loss-descent
 * rate weighting, Liu et al. 2019's DWA): a task whose loss stalls (ratio near or above 1) gets
 * more weight. L_k are the upper losses, smoothed by an exponential moving average (lossEma)
 * because single-batch losses are too noisy for a per-step ratio; w_k = 1 for the first two
 * steps.
 *
 * ## Order within a step
 *
 * All gradients are taken at the same point (θ_t, y_t): upper losses on the held-out batch,
 * lower losses on the training batch; only when every loss and gradient is finite do θ (Adam on
 * g_θ), D and S (Adam on ∇_y f_k) move. The lower-level gradient is thus shared by the c_k term
 * and the lower step (one backward pass less than stepping the lower level first).
 */
import * as tf from '@tensorflow/tfjs-core';
import { bdlFusionLoss, generatorAdversarialLoss, saliencyTarget } from '../losses/fusion-losses';
import { fusion } from '../models/fusion';
import { discriminator } from '../models/discriminator';
import { discriminatorObjective } from '../train/objectives';
import type { StepLosses } from '../train/loop';
import {
  CLASS_WEIGHT_CHOICES, StepRunner, TrainGroup, addScaled, batchTensors, dot, lossAndGrads, readFinite,
  requireTaskTargets, resolveOptions, scaled, taskObjective, type BatchTensors, type LossGrads, type NamedTensors,
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

/** The gradients one task contributes to its hypergradient (see the module comment). */
export interface BdlTaskGradients {
  /** ∇_θ F_k(θ, y_k): upper loss on the held-out batch. */
  upperTheta: NamedTensors;
  /** ∇_y F_k(θ, y_k); null when the module is frozen (no implicit term). */
  upperY: NamedTensors | null;
  /** ∇_y f_k(θ, y_k): lower loss on the training batch; null when frozen. */
  lowerY: NamedTensors | null;
  /** ∇_θ f̃_k(θ, y_k) on the training batch; null when frozen. */
  lowerTildeTheta: NamedTensors | null;
}

/**
 * BDLFusion's first-order hypergradient of one task:
 * `h_k = ∇_θ F_k + η · c_k · ∇_θ f̃_k`, `c_k = clip(<∇_y F_k, ∇_y f_k> / ||∇_y f_k||², ±cMax)`.
 * With a frozen module (`upperY` null) `c_k = 0` and `h_k = ∇_θ F_k`.
 * @returns new tensors: `h` keyed like `upperTheta`, and `c` (a scalar).
 */
export function bdlHypergradient(g: BdlTaskGradients, eta: number, cMax: number): { h: NamedTensors; c: tf.Scalar } {
  if (!g.upperY || !g.lowerY || !g.lowerTildeTheta) {
    return { h: tf.tidy(() => Object.fromEntries(Object.entries(g.upperTheta).map(([k, t]) => [k, tf.clone(t)]))), c: tf.scalar(0) };
  }
  const { upperY, lowerY, lowerTildeTheta } = g;
  const c = tf.tidy(() => {
    const num = dot(upperY, lowerY);
    const den = dot(lowerY, lowerY);
    // 0/0 (no lower gradient at all) gives 0 rather than NaN.
    const raw = tf.div(num, tf.maximum(den, 1e-30));
    return tf.clipByValue(raw, -cMax, cMax) as tf.Scalar;
  });
  const h = tf.tidy(() => addScaled(g.upperTheta, lowerTildeTheta, tf.mul(c, eta) as tf.Scalar));
  return { h, c };
}

// ---------------------------------------------------------------------------------------------
// Strategy

/** Options of {@link createBdl}. */
export interface BdlOptions extends CommonOptions, TaskLossOptions {
  [key: string]: number | string | boolean;
  /** Learning rate of D's lower-level steps. */
  lrD: number;
  /** Learning rate of S's lower-level steps. */
  lrS: number;
  /** Whether D takes lower-level steps (false: D frozen, no implicit visual term). */
  trainD: boolean;
  /** Whether S takes lower-level steps (false: S frozen, no implicit semantic term). */
  trainS: boolean;
  /** η: step of the implicit term `η·c_k·∇_θ f̃_k`. */
  eta: number;
  /** Bound on |c_k|. */
  cMax: number;
  /** DWA temperature T. */
  temperature: number;
  /** EMA factor of the upper losses fed to DWA (0 = raw per-step losses); < 1. */
  lossEma: number;
  /** λ_adv: weight of the adversarial term in the visual upper loss. */
  adversarial: number;
  /** Weight of `1 − SSIM(F, T)` in the visual upper loss (BDLFusion: 1.1). */
  ssimWeight: number;
}

/**
 * Defaults. S is frozen by default: fine-tuned F is evaluated with the pretrained S, and the
 * browser keeps one S for all runs. η = 1 weighs the training batch's task gradient like the
 * held-out one when c ≈ 1.
 */
export const BDL_DEFAULTS: BdlOptions = {
  lr: 1e-4, clipNorm: 5, totalSteps: 0,
  lrD: 1e-4, lrS: 1e-5, trainD: true, trainS: false,
  eta: 1, cMax: 10, temperature: 2, lossEma: 0.9, adversarial: 0.1, ssimWeight: 1.1,
  segmentation: 1, detection: 1, classWeights: 'msrs',
};

/** The two tasks, in the order of weights and losses. */
export const BDL_TASKS = ['visual', 'task'] as const;

/**
 * Creates the `bdl` strategy; needs F, D and S.
 * @throws on bad options or a missing model.
 */
export function createBdl(models: StrategyModels, given: Partial<BdlOptions> = {}): Strategy {
  const o = resolveOptions('bdl', BDL_DEFAULTS, given, { classWeights: CLASS_WEIGHT_CHOICES });
  if (!models.discriminator) throw new Error('bdl: needs the discriminator D (visual lower level)');
  if (!models.segdet) throw new Error('bdl: needs the segmenter S (semantic lower level)');
  if (o.segmentation <= 0 && o.detection <= 0) throw new Error('bdl: the semantic task needs a segmentation or detection weight > 0');
  if (o.lossEma >= 1) throw new Error('bdl: lossEma must be < 1');
  if (!(o.temperature > 0)) throw new Error('bdl: temperature must be > 0');
  const F = models.fusion;
  const D = models.discriminator;
  const S = models.segdet;
  const groups = [new TrainGroup('fusion', F, o.lr)];
  if (o.trainD) groups.push(new TrainGroup('discriminator', D, o.lrD));
  if (o.trainS) groups.push(new TrainGroup('segdet', S, o.lrS));
  const runner = new StepRunner(groups, o);
  // Smoothed upper losses after each finished step (for DWA).
  const history: number[][] = [];
  let smooth: number[] | null = null;

  /** F_D on a batch: BDLFusion's fusion loss plus the adversarial term. */
  const visualUpper = (t: BatchTensors) => (): StepLosses => {
    const fused = fusion.apply(F, t.x);
    const fl = bdlFusionLoss(fused, t.ir, t.vi, { ssimWeight: o.ssimWeight });
    if (o.adversarial <= 0) return { total: fl, terms: { fusion: tf.clone(fl) as tf.Scalar } };
    const adv = generatorAdversarialLoss(discriminator.apply(D, fused));
    return { total: tf.add(fl, tf.mul(adv, o.adversarial)) as tf.Scalar, terms: { fusion: fl, adversarial: adv } };
  };
  const taskLoss = (t: BatchTensors) => (): StepLosses => taskObjective(S, fusion.apply(F, t.x), t, o);

  const step = (batches: StrategyBatches): Promise<StrategyStepLog> => runner.run(async (bag) => {
    requireTaskTargets(batches.train, o, 'bdl');
    if (batches.heldOut) requireTaskTargets(batches.heldOut, o, 'bdl');
    const tr = bag.add(batchTensors(batches.train, 32));
    const va = batches.heldOut ? bag.add(batchTensors(batches.heldOut, 32)) : tr;

    // Upper level on the held-out batch: ∇θ F_k and (trained modules) ∇y F_k in one pass each.
    const upD: LossGrads = bag.add(lossAndGrads(visualUpper(va), o.trainD ? { fusion: F, discriminator: D } : { fusion: F }));
    const upS: LossGrads = bag.add(lossAndGrads(taskLoss(va), o.trainS ? { fusion: F, segdet: S } : { fusion: F }));
    // Lower level on the training batch.
    let lowD: LossGrads | null = null;
    let tildeD: LossGrads | null = null;
    let lowS: LossGrads | null = null;
    if (o.trainD) {
      // F(x) is a constant for D's own loss: computed outside the tape.
      const fake = bag.add(tf.tidy(() => fusion.apply(F, tr.x)));
      const real = bag.add(saliencyTarget(tr.ir, tr.vi));
      lowD = bag.add(lossAndGrads(() => discriminatorObjective(discriminator.apply(D, real), discriminator.apply(D, fake)), { discriminator: D }));
      tildeD = bag.add(lossAndGrads(visualUpper(tr), { fusion: F }));
    }
    if (o.trainS) lowS = bag.add(lossAndGrads(taskLoss(tr), { fusion: F, segdet: S }));

    const scalars: Record<string, tf.Scalar> = { visual: upD.value, task: upS.value, ...upD.terms, ...upS.terms };
    if (lowD) scalars.discriminator = lowD.value;
    if (tildeD) scalars.visualTrain = tildeD.value;
    if (lowS) scalars.taskTrain = lowS.value;
    const grads = [upD, upS, lowD, tildeD, lowS].flatMap((r) => (r ? Object.values(r.grads) : [])) as NamedTensors[];
    const v = await readFinite(scalars, grads);

    const hD = bag.add(bdlHypergradient({
      upperTheta: upD.grads.fusion!, upperY: upD.grads.discriminator ?? null,
      lowerY: lowD?.grads.discriminator ?? null, lowerTildeTheta: tildeD?.grads.fusion ?? null,
    }, o.eta, o.cMax));
    const hS = bag.add(bdlHypergradient({
      upperTheta: upS.grads.fusion!, upperY: upS.grads.segdet ?? null,
      lowerY: lowS?.grads.segdet ?? null, lowerTildeTheta: lowS?.grads.fusion ?? null,
    }, o.eta, o.cMax));
    const n = history.length;
    const w = dynamicTaskWeights(n >= 1 ? history[n - 1] : null, n >= 2 ? history[n - 2] : null, o.temperature, BDL_TASKS.length);
    const g = bag.add(tf.tidy(() => addScaled(scaled(hD.h, w[0]), hS.h, w[1])));
    const c = await readFinite({ visual: hD.c, task: hS.c });

    runner.update('fusion', g);
    if (lowD) runner.update('discriminator', lowD.grads.discriminator!);
    if (lowS) runner.update('segdet', lowS.grads.segdet!);

    const losses = [v.visual, v.task];
    smooth = smooth ? smooth.map((s, i) => o.lossEma * s + (1 - o.lossEma) * losses[i]) : losses;
    history.push(smooth);
    if (history.length > 2) history.shift();

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
