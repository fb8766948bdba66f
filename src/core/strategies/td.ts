/**
 * `td`: TDFusion (Bai et al., "Task-driven Image Fusion with Learnable Fusion Loss", CVPR 2025).
 *
 * The fusion loss has learnable parameters: the loss generator G (φ) gives per-pixel weights
 * `(w_ir, w_vi) = softmax(G(IR, Y_vis))` and
 *
 *   L_fusion(θ; φ) = a·[mean((w_ir·(IR − F))²) + mean((w_vi·(Y_vis − F))²)]
 *                  + b·[L1(Sx F, Sx_max) + L1(Sy F, Sy_max)]
 *
 * (S_max: per pixel the source Sobel response of larger magnitude, sign kept; TDFusion uses
 * a = b = 1). One step:
 *
 * 1. **Meta step on φ.** Virtual SGD step `θ' = θ − ξ·∇_θ L_fusion(θ; φ)` (training batch);
 *    task loss `L_task(θ') = seg·CE + det·CenterNet of S(F_θ'(x))` on the held-out batch (as
 *    TDFusion's outer loop uses the next batch); φ moves along
 *
 *      ∇_φ L_task(θ') = −ξ · ∇²_φθ L_fusion(θ; φ) · ∇_θ' L_task(θ'),
 *
 *    which is exact for the one-step unroll (θ' depends on φ only through ∇_θ L_fusion at θ).
 *    tfjs cannot differentiate the conv gradient again, so the mixed second-order product is
 *    the central finite difference of DARTS (Liu et al. 2019):
 *
 *      ∇²_φθ L · v ≈ (∇_φ L_fusion(θ⁺; φ) − ∇_φ L_fusion(θ⁻; φ)) / (2ε),  θ± = θ ± ε·v,
 *
 *    with v = ∇_θ' L_task(θ') and `ε = r·||θ|| / ||v||` (r = `fdRadius`, default 1e-3): the
 *    probe moves θ by the fraction r of θ's own norm, whatever the scale of v. DARTS takes
 *    ε = 0.01/||v||, an absolute length that means different things for different networks
 *    (on F, a probe of 0.1 gave a cosine of 0.56 down to −0.87 with the exact hypergradient).
 *    Relative to ||θ|| it stays well above float32 rounding of θ (~1e-7·||θ||) and inside the
 *    region where L_fusion is near-quadratic in θ (the error is O(ε²)); r is bounded to
 *    [1e-5, 1e-2], the range where the tests find the difference faithful.
 * 2. **Real step on θ** with L_fusion(θ; φ) at the updated φ, plus an optional direct task
 *    term `taskTerm · L_task(θ)` on the training batch (S frozen: gradients pass through it).
 * 3. **Optionally (trainS)** a step of S on the task loss of the (detached) fused image.
 *
 * Every loss and gradient is checked; a non-finite one rolls back θ, φ (and S) together.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../types';
import { fusion } from '../models/fusion';
import { lossGenerator } from '../models/loss-generator';
import { fusionObjective } from '../train/objectives';
import type { StepLosses } from '../train/loop';
import { FlatLayout, vectorNorm } from '../train/flat';
import { CLASS_WEIGHT_CHOICES, resolveOptions, type OptionRules } from './options';
import { StepRunner, TrainGroup, lossAndGrads, type LossGrads } from './step-runner';
import { batchTensors, type BatchTensors } from './batch-tensors';
import { requireTaskTargets, taskObjective } from './task-terms';
import { COMMON_DEFAULTS, CONSTANT_RATE, type CommonOptions, type Strategy, type StrategyBatches, type StrategyModels, type StrategyPlan, type StrategyStepLog, type TaskLossOptions } from './types';

// ---------------------------------------------------------------------------------------------
// The DARTS hypergradient (pure tensors in, tensors out)

/** Inputs of {@link dartsHypergradient}. The loss closures read the current θ and φ variables. */
export interface DartsInput {
  /** θ: the inner (fusion) parameters. Temporarily reassigned; restored before returning. */
  theta: Params;
  /** φ: the outer (loss-generator) parameters. Only read. */
  phi: Params;
  /** L_fusion(θ; φ) on the training batch. */
  fusionLoss: () => StepLosses;
  /** L_task(θ) on the meta batch (may read φ; its φ-gradient is not taken). */
  taskLoss: () => StepLosses;
  /** ξ: step of the virtual SGD step. */
  xi: number;
  /** r: the finite-difference probe length relative to ||θ||; ε = r·||θ|| / ||∇_θ' L_task||. */
  radius: number;
}

/** What {@link dartsHypergradient} returns; all tensors new and owned by the caller. */
export interface DartsResult {
  /** ≈ ∇_φ L_task(θ − ξ∇_θ L_fusion(θ; φ)), one vector in the order of `phi`'s names (`FlatLayout`). */
  hypergrad: tf.Tensor1D;
  /** L_task(θ') at the virtual parameters. */
  taskAtVirtual: tf.Scalar;
  /** L_fusion(θ; φ) before the virtual step. */
  fusionAtTheta: tf.Scalar;
  /** ε used for the difference. */
  epsilon: tf.Scalar;
}

/**
 * The TDFusion meta-gradient of φ by DARTS's finite difference (see the module comment):
 * `−ξ·(∇_φ L_fusion(θ⁺; φ) − ∇_φ L_fusion(θ⁻; φ)) / (2ε)`, `θ± = θ ± ε·∇_θ' L_task(θ')`,
 * `θ' = θ − ξ·∇_θ L_fusion(θ; φ)`, `ε = radius·||θ|| / ||∇_θ' L_task(θ')||`.
 * Costs one gradient of L_fusion in θ, one of L_task in θ' and two of L_fusion in φ; the
 * vector arithmetic runs on θ and φ laid out as one vector each.
 * θ holds its original values again when this returns (or throws).
 */
export function dartsHypergradient(i: DartsInput): DartsResult {
  const thetaLayout = new FlatLayout(i.theta);
  const phiLayout = new FlatLayout(i.phi);
  const saved = Object.entries(i.theta).map(([k, v]) => [k, tf.clone(v)] as const);
  // Intermediates, freed in any case; `kept` is freed only if this throws.
  const junk: tf.Tensor[] = [];
  const kept: tf.Tensor[] = [];
  const flatGrad = (r: LossGrads, model: 'fusion' | 'lossGenerator', layout: FlatLayout): tf.Tensor1D => {
    junk.push(r.value, ...Object.values(r.terms), ...Object.values(r.grads[model]!));
    const g = layout.flatten(r.grads[model]!);
    junk.push(g);
    return g;
  };
  let ok = false;
  try {
    const theta0 = thetaLayout.flatten(i.theta);
    junk.push(theta0);
    const inner = lossAndGrads(i.fusionLoss, { fusion: i.theta });
    const fusionAtTheta = tf.clone(inner.value);
    kept.push(fusionAtTheta);
    const gInner = flatGrad(inner, 'fusion', thetaLayout);
    const shifted = (dir: tf.Tensor1D, s: () => number | tf.Scalar) =>
      tf.tidy(() => thetaLayout.assign(i.theta, tf.add(theta0, tf.mul(dir, s())) as tf.Tensor1D));
    shifted(gInner, () => -i.xi);
    const outer = lossAndGrads(i.taskLoss, { fusion: i.theta });
    const taskAtVirtual = tf.clone(outer.value);
    kept.push(taskAtVirtual);
    const v = flatGrad(outer, 'fusion', thetaLayout);
    const epsilon = tf.tidy(() => tf.div(tf.mul(i.radius, vectorNorm(theta0)), tf.maximum(vectorNorm(v), 1e-12)) as tf.Scalar);
    kept.push(epsilon);
    const phiGrad = (sign: 1 | -1): tf.Tensor1D => {
      shifted(v, () => tf.mul(epsilon, sign) as tf.Scalar);
      return flatGrad(lossAndGrads(i.fusionLoss, { lossGenerator: i.phi }), 'lossGenerator', phiLayout);
    };
    const gp = phiGrad(1);
    const gm = phiGrad(-1);
    const hypergrad = tf.tidy(() => tf.mul(tf.sub(gp, gm), tf.div(-i.xi, tf.mul(epsilon, 2))) as tf.Tensor1D);
    ok = true;
    return { hypergrad, taskAtVirtual, fusionAtTheta, epsilon };
  } finally {
    for (const [k, t] of saved) i.theta[k].assign(t);
    tf.dispose([...saved.map(([, t]) => t), ...junk, ...(ok ? [] : kept)]);
  }
}

// ---------------------------------------------------------------------------------------------
// Strategy

/** Options of {@link createTd}. */
export interface TdOptions extends CommonOptions, TaskLossOptions {
  [key: string]: number | string | boolean;
  /** Learning rate of φ (G). */
  lrG: number;
  /** a: weight of the G-weighted intensity loss. */
  intensity: number;
  /** b: weight of the Sobel-max gradient loss. */
  gradient: number;
  /** ξ: virtual SGD step of θ in the meta step (Adam on φ makes its scale matter little). */
  xi: number;
  /** r: DARTS probe length relative to ||θ|| (ε = r·||θ|| / ||∇_θ' L_task||), within [1e-5, 1e-2]. */
  fdRadius: number;
  /** Weight of a direct task term in θ's real step (0 = pure TDFusion: θ sees only L_fusion). */
  taskTerm: number;
  /** Whether S takes steps on the task loss (false: S frozen). */
  trainS: boolean;
  /** Learning rate of S when trained. */
  lrS: number;
  /**
   * A second scale of the meta batch: 1, the held-out crops as drawn; s < 1, also crops of side
   * crop/s shown at crop (the scene at s times its size), and L_task(θ') the mean over both.
   * G's per-pixel weights then answer to the task's gradient on near and far objects alike,
   * where a 128-px crop at full size shows a car's part more often than the car.
   */
  metaScale: number;
}

/** Defaults: TDFusion's a = b = 1, S frozen, no direct task term. */
export const TD_DEFAULTS: TdOptions = {
  ...COMMON_DEFAULTS,
  lrG: 1e-4, intensity: 1, gradient: 1, xi: 0.01, fdRadius: 1e-3, taskTerm: 0, trainS: false, lrS: 1e-5, metaScale: 1,
  segmentation: 1, detection: 1, classWeights: 'msrs',
};

/** Allowed values of the string options and ranges of the numeric ones. */
export const TD_RULES: OptionRules<TdOptions> = {
  choices: { classWeights: CLASS_WEIGHT_CHOICES },
  bounds: { fdRadius: [1e-5, 1e-2], metaScale: [0.25, 1] },
};

/**
 * Creates the `td` strategy; needs F, G and S.
 * @throws on bad options or a missing model.
 */
export function createTd(models: StrategyModels, given: Partial<TdOptions> = {}, plan: StrategyPlan = CONSTANT_RATE): Strategy {
  const o = resolveOptions('td', TD_DEFAULTS, given, TD_RULES);
  if (!models.lossGenerator) throw new Error('td: needs the loss generator G');
  if (!models.segdet) throw new Error('td: needs the segmenter S (the task loss)');
  if (o.segmentation <= 0 && o.detection <= 0) throw new Error('td: the task loss needs a segmentation or detection weight > 0');
  const F = models.fusion;
  const G = models.lossGenerator;
  const S = models.segdet;
  // G's hypergradient is ξ·(difference of two gradients)/2ε, typically 1e-9..1e-6 per
  // element: with Adam's usual ε = 1e-7 the step would shrink by orders of magnitude, so G's
  // Adam uses ε = 1e-10, as TDFusion's optimizer of the loss module does.
  const groups = [new TrainGroup('fusion', F, o.lr), new TrainGroup('lossGenerator', G, o.lrG, 1e-10)];
  if (o.trainS) groups.push(new TrainGroup('segdet', S, o.lrS));
  const runner = new StepRunner(groups, o, plan);
  const weights = {
    intensity: o.intensity, intensityMode: 'weighted' as const, gradient: o.gradient, gradientVariant: 'sobel-max' as const,
    ssim: 0, adversarial: 0,
  };

  const fusionLoss = (t: BatchTensors) => (): StepLosses => {
    const fused = fusion.apply(F, t.x);
    const pixelWeights = tf.softmax(lossGenerator.apply(G, t.x)) as tf.Tensor4D;
    return fusionObjective(fused, t.ir, t.vi, weights, { pixelWeights });
  };

  const step = (batches: StrategyBatches): Promise<StrategyStepLog> => runner.run(async (bag) => {
    requireTaskTargets(batches.heldOut ?? batches.train, o, 'td');
    if (o.taskTerm > 0 || o.trainS) requireTaskTargets(batches.train, o, 'td');
    const tr = bag.add(batchTensors(batches.train, 32));
    const va = batches.heldOut ? bag.add(batchTensors(batches.heldOut, 32)) : tr;
    const views = [va, ...(batches.heldOutScaled ?? []).map((b) => bag.add(batchTensors(b, 32)))];
    for (const b of batches.heldOutScaled ?? []) requireTaskTargets(b, o, 'td');
    /** L_task(θ) on the meta batch, the mean over its scales. */
    const metaTask = (): StepLosses => {
      if (views.length === 1) return taskObjective(S, fusion.apply(F, va.x), va, o);
      // Their terms are left to the gradient's scope, which frees what it does not return.
      const each = views.map((v) => taskObjective(S, fusion.apply(F, v.x), v, o));
      return { total: tf.div(tf.addN(each.map((l) => l.total)), each.length) as tf.Scalar, terms: {} };
    };

    // 1. Meta step on φ.
    const meta = bag.add(dartsHypergradient({
      theta: F, phi: G, fusionLoss: fusionLoss(tr), taskLoss: metaTask,
      xi: o.xi, radius: o.fdRadius,
    }));
    const hNorm = bag.add(vectorNorm(meta.hypergrad));
    runner.update('lossGenerator', meta.hypergrad);

    // 2. Real step on θ with the updated loss (+ optional direct task term).
    const real = bag.add(lossAndGrads(() => {
      const f = fusionLoss(tr)();
      if (o.taskTerm <= 0) return f;
      const task = taskObjective(S, fusion.apply(F, tr.x), tr, o);
      return {
        total: tf.add(f.total, tf.mul(task.total, o.taskTerm)) as tf.Scalar,
        terms: { ...f.terms, task: task.total },
      };
    }, { fusion: F }));
    const meanWeightIR = bag.add(tf.tidy(() => tf.mean(tf.slice(tf.softmax(lossGenerator.apply(G, tr.x)), [0, 0, 0, 0], [-1, -1, -1, 1])) as tf.Scalar));
    runner.update('fusion', real.grads.fusion!);

    // 3. Optional step of S on the (detached) fused image.
    let low: LossGrads | null = null;
    if (o.trainS) {
      const fused = bag.add(tf.tidy(() => fusion.apply(F, tr.x)));
      low = bag.add(lossAndGrads(() => taskObjective(S, fused, tr, o), { segdet: S }));
      runner.update('segdet', low.grads.segdet!);
    }

    return {
      scalars: {
        taskVirtual: meta.taskAtVirtual, fusionBefore: meta.fusionAtTheta, epsilon: meta.epsilon,
        fusion: real.value, ...real.terms, hypergradNorm: hNorm, meanWeightIR, ...(low ? { taskTrain: low.value } : {}),
      },
      report: ({ taskVirtual, fusionBefore: _, epsilon, hypergradNorm, meanWeightIR: mw, ...terms }) => ({
        total: terms.fusion,
        terms: { ...terms, taskVirtual },
        stats: { epsilon, hypergradNorm, meanWeightIR: mw },
      }),
    };
  });

  return {
    name: 'td',
    options: o,
    moves: groups.map((g) => g.model),
    usesHeldOut: true,
    ...(o.metaScale < 1 ? { heldOutScales: [o.metaScale] } : {}),
    get stepCount() { return runner.step; },
    step,
    dispose: () => runner.dispose(),
  };
}
