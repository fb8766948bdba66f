/** The task objective on S's outputs (segmentation and detection), and the targets it needs. */
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../types';
import { segdet } from '../models/segdet';
import type { CropBatch } from '../train/batch';
import { type StepLosses } from '../train/loop';
import { DEFAULT_SEGDET_WEIGHTS, segdetObjective } from '../train/objectives';
import { msrsClassWeights } from '../losses/task-losses';
import { fusedRgb } from '../image/tensor';
import { type TaskLossOptions } from './types';
import { BatchTensors } from './batch-tensors';

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
