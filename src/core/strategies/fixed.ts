/**
 * `fixed`: fine-tunes F (θ) alone on a user-weighted sum of fusion and task losses,
 *
 *   L(θ) = a·L_int + b·L_grad + c·L_ssim + d·L_adv(D(F)) + e·CE(S(F)) + f·L_det(S(F)),
 *
 * with D and S frozen (gradients flow through them into F, their parameters never move). This
 * is the baseline the bi-level strategies are compared with, and what a weighting sweep runs.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientVariant } from '../losses/fusion-losses';
import { fusion } from '../models/fusion';
import { discriminator } from '../models/discriminator';
import { fusionObjective } from '../train/objectives';
import { CLASS_WEIGHT_CHOICES, resolveOptions, type OptionRules } from './options';
import { StepRunner, TrainGroup, lossAndGrads } from './step-runner';
import { batchTensors } from './batch-tensors';
import { requireTaskTargets, taskObjective } from './task-terms';
import { COMMON_DEFAULTS, CONSTANT_RATE, type CommonOptions, type Strategy, type StrategyBatches, type StrategyModels, type StrategyPlan, type StrategyStepLog, type TaskLossOptions } from './types';

/** Options of {@link createFixed}; a zero weight leaves its term out. */
export interface FixedOptions extends CommonOptions, TaskLossOptions {
  [key: string]: number | string | boolean;
  /** Weight of the intensity loss. */
  intensity: number;
  /** `max`: L1 to max(IR, VI); `mean`: to their mean; `saliency`: to m·IR + (1−m)·VI. */
  intensityMode: 'max' | 'mean' | 'saliency';
  /** Weight of the gradient (texture) loss. */
  gradient: number;
  /** `abs-max` (SeAFusion, F's pretraining) or `sobel-max` (TDFusion). */
  gradientVariant: GradientVariant;
  /** Weight of `(1 − SSIM(F, IR)) + (1 − SSIM(F, VI))`. */
  ssim: number;
  /** Weight of the LSGAN generator term `mean((D(F) − 1)²)` with D frozen (needs D). */
  adversarial: number;
}

/**
 * Defaults: F's pretraining loss (intensity-max 1, gradient abs-max 10, SSIM 0.5) plus small
 * task terms, at a fine-tuning learning rate.
 */
export const FIXED_DEFAULTS: FixedOptions = {
  ...COMMON_DEFAULTS,
  intensity: 1, intensityMode: 'max', gradient: 10, gradientVariant: 'abs-max', ssim: 0.5, adversarial: 0,
  segmentation: 0.1, detection: 0.1, classWeights: 'msrs',
};

/** Allowed values of the string options. */
export const FIXED_RULES: OptionRules<FixedOptions> = {
  choices: {
    intensityMode: ['max', 'mean', 'saliency'],
    gradientVariant: ['abs-max', 'sobel-max'],
    classWeights: CLASS_WEIGHT_CHOICES,
  },
};

/**
 * Creates the `fixed` strategy.
 * @throws when an option is unknown or ill-typed, or a term needs a model that is not given
 *   (adversarial → discriminator, task terms → segdet).
 */
export function createFixed(models: StrategyModels, given: Partial<FixedOptions> = {}, plan: StrategyPlan = CONSTANT_RATE): Strategy {
  const o = resolveOptions('fixed', FIXED_DEFAULTS, given, FIXED_RULES);
  const useTask = o.segmentation > 0 || o.detection > 0;
  if (o.adversarial > 0 && !models.discriminator) throw new Error('fixed: the adversarial term needs the discriminator D');
  if (useTask && !models.segdet) throw new Error('fixed: the task terms need the segmenter S');
  const multiple = useTask ? 32 : o.adversarial > 0 ? discriminator.stride : fusion.stride;
  const runner = new StepRunner([new TrainGroup('fusion', models.fusion, o.lr)], o, plan);
  const weights = {
    intensity: o.intensity, intensityMode: o.intensityMode, gradient: o.gradient, gradientVariant: o.gradientVariant,
    ssim: o.ssim, adversarial: o.adversarial,
  };

  const step = (batches: StrategyBatches): Promise<StrategyStepLog> => runner.run(async (bag) => {
    if (useTask) requireTaskTargets(batches.train, o, 'fixed');
    const t = bag.add(batchTensors(batches.train, multiple));
    const r = bag.add(lossAndGrads(() => {
      const fused = fusion.apply(models.fusion, t.x);
      const dFake = o.adversarial > 0 ? discriminator.apply(models.discriminator!, fused) : undefined;
      const f = fusionObjective(fused, t.ir, t.vi, weights, { dFake });
      if (!useTask) return f;
      const task = taskObjective(models.segdet!, fused, t, o);
      return { total: tf.add(f.total, task.total) as tf.Scalar, terms: { ...f.terms, ...task.terms } };
    }, { fusion: models.fusion }));
    runner.update('fusion', r.grads.fusion!);
    return {
      scalars: { total: r.value, ...r.terms },
      report: ({ total, ...terms }) => ({ total, terms }),
    };
  });

  return {
    name: 'fixed',
    options: o,
    moves: ['fusion'],
    usesHeldOut: false,
    get stepCount() { return runner.step; },
    step,
    dispose: () => runner.dispose(),
  };
}
