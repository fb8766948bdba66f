/**
 * Loss objectives of the training stages, as functions of tensors. The Node training pipeline
 * and the browser fine-tuning strategies both build their steps from these.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  discriminatorLoss, generatorAdversarialLoss, gradientLoss, intensityLoss, irSaliency, ssim,
  type GradientVariant, type IntensityMode,
} from '../losses/fusion-losses';
import { detectionLossTerms, segmentationDiceLoss, segmentationLoss, type DetectionLossWeights } from '../losses/task-losses';
import type { DetectionTargetTensors } from '../detect/centernet';
import type { StepLosses } from './loop';

/** Weights of the fusion loss terms; a zero weight skips the term. */
export interface FusionLossWeights {
  intensity: number;
  intensityMode: IntensityMode;
  gradient: number;
  gradientVariant: GradientVariant;
  /** Weight of `(1 − SSIM(F, IR)) + (1 − SSIM(F, VI))`. */
  ssim: number;
  /** Weight of the generator's adversarial term (needs D's logits on F). */
  adversarial: number;
}

/**
 * Pretraining weights of F: max-intensity + Sobel-magnitude texture (SeAFusion's loss, α = 10)
 * plus SSIM to both sources, which the SSIM metric of docs/metrics.md sums.
 */
export const PRETRAIN_FUSION_WEIGHTS: FusionLossWeights = {
  intensity: 1, intensityMode: 'max', gradient: 10, gradientVariant: 'abs-max', ssim: 0.5, adversarial: 0,
};

/**
 * The fusion objective for fused `f` of sources `ir`, `vi` (all `[B,H,W,1]` in [0,1]).
 * @param extras `dFake`: D's logits on `f` (for the adversarial term); `pixelWeights`: `[B,H,W,2]`
 *   softmax weights of G (for intensity mode `weighted`).
 */
export function fusionObjective(
  f: tf.Tensor4D, ir: tf.Tensor4D, vi: tf.Tensor4D, w: FusionLossWeights,
  extras: { dFake?: tf.Tensor; pixelWeights?: tf.Tensor4D } = {},
): StepLosses {
  const terms: Record<string, tf.Scalar> = {};
  if (w.intensity) terms.intensity = intensityLoss(f, ir, vi, w.intensityMode, { weights: extras.pixelWeights });
  if (w.gradient) terms.gradient = gradientLoss(f, ir, vi, w.gradientVariant);
  if (w.ssim) terms.ssim = tf.tidy(() => tf.sub(2, tf.add(ssim(f, ir), ssim(f, vi))) as tf.Scalar);
  if (w.adversarial && extras.dFake) terms.adversarial = generatorAdversarialLoss(extras.dFake);
  const weightOf: Record<string, number> = {
    intensity: w.intensity, gradient: w.gradient, ssim: w.ssim, adversarial: w.adversarial,
  };
  const total = tf.tidy(() => tf.addN(Object.entries(terms).map(([k, t]) => tf.mul(t, weightOf[k]))) as tf.Scalar);
  return { total, terms };
}

/** Weights of S's objective. */
export interface SegDetLossWeights {
  segmentation: number;
  detection: number;
  detectionTerms?: DetectionLossWeights;
  /** Per-class weights of the segmentation cross-entropy. */
  classWeights?: readonly number[];
  /** Weight of the soft Dice term over present classes (default 0: cross-entropy alone). */
  dice?: number;
}

export const DEFAULT_SEGDET_WEIGHTS: SegDetLossWeights = {
  segmentation: 1, detection: 1, detectionTerms: { heat: 1, box: 1 },
};

/** S's objective: class-weighted segmentation CE (+ optional Dice) + CenterNet detection loss. */
export function segdetObjective(
  out: { seg: tf.Tensor4D; det: tf.Tensor4D }, labels: tf.Tensor3D | null, targets: DetectionTargetTensors | null,
  w: SegDetLossWeights,
): StepLosses {
  const terms: Record<string, tf.Scalar> = {};
  const parts: tf.Scalar[] = [];
  if (labels && w.segmentation) {
    terms.segmentation = segmentationLoss(out.seg, labels, w.classWeights);
    parts.push(tf.mul(terms.segmentation, w.segmentation));
    if (w.dice) {
      terms.dice = segmentationDiceLoss(out.seg, labels);
      parts.push(tf.mul(terms.dice, w.segmentation * w.dice));
    }
  }
  if (targets && w.detection) {
    const d = detectionLossTerms(out.det, targets, w.detectionTerms);
    terms.heat = d.heat;
    terms.box = d.box;
    parts.push(tf.mul(d.total, w.detection));
    d.total.dispose();
  }
  if (parts.length === 0) throw new Error('segdetObjective: no labels and no boxes to learn from');
  const total = tf.addN(parts) as tf.Scalar;
  tf.dispose(parts);
  return { total, terms };
}

/**
 * D's objective: the saliency target `m·IR + (1−m)·VI` (BDLFusion's "real" image) against the
 * fused image (fake). `dReal`, `dFake` are D's logits.
 */
export function discriminatorObjective(dReal: tf.Tensor, dFake: tf.Tensor): StepLosses {
  const d = discriminatorLoss(dReal, dFake);
  return { total: d, terms: { discriminator: tf.clone(d) as tf.Scalar } };
}

/**
 * G's warm start: cross-entropy between G's softmax weights and the IR saliency map m, so that
 * before any meta-learning `w_ir ≈ m` and `w_vi ≈ 1 − m` (BDLFusion's fixed weighting).
 * @param logits `[B,H,W,2]` G output; `ir` `[B,H,W,1]`.
 */
export function lossGeneratorWarmupObjective(logits: tf.Tensor4D, ir: tf.Tensor4D): StepLosses {
  const ce = tf.tidy(() => {
    const m = irSaliency(ir);
    const target = tf.concat([m, tf.sub(1, m)], 3);
    return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(logits, 3)), 3))) as tf.Scalar;
  });
  return { total: ce, terms: { saliencyCE: tf.clone(ce) as tf.Scalar } };
}
