/**
 * Task-adapted scoring, as BDLFusion and TDFusion score a fusion method: the task network is
 * trained on that method's own fused images before it is scored. Here S's heads (segmentation
 * and detection; the backbone and decoder stay) take K steps on one F's fused images of the
 * labelled training pairs, with S's own recipe (crops at 0.75–1.5×, the luma and single-source
 * augmentation, class-weighted cross-entropy + CenterNet loss). The seed, the crops and K are
 * the same for every F, so two Fs differ only in their images: the pretrained F's row is adapted
 * the same way.
 */
import * as tf from '@tensorflow/tfjs-core';
import { encodeBatch, disposeTargets } from '../detect/centernet';
import { cropTo, padToMultiple } from '../image/pad';
import { planesToTensor, tensorToPlane } from '../image/tensor';
import { msrsClassWeights } from '../losses/task-losses';
import { fusion } from '../models/fusion';
import { segdet, segdetParamNames } from '../models/segdet';
import type { Params } from '../types';
import { augmentTaskBatch, scaledCropSide } from './augment';
import { sampleCrops, type TrainPair } from './batch';
import { Adam } from './flat';
import { trainLoop, type StepLog } from './loop';
import { DEFAULT_SEGDET_WEIGHTS, segdetObjective } from './objectives';

/** How S's heads are adapted: the same for every F compared. */
export interface AdaptTaskOptions {
  /** K: steps of the heads. */
  steps: number;
  seed: number;
  batch: number;
  /** Crop side in pixels (crops are drawn at 0.75–1.5× of it and resized to it). */
  crop: number;
  /** Peak learning rate of the heads (warm-up, then cosine to a tenth). */
  lr: number;
}

export const ADAPT_DEFAULTS: Omit<AdaptTaskOptions, 'steps'> = { seed: 1, batch: 4, crop: 256, lr: 5e-4 };

/** Every pair's fused Y (`pair.fused`) by F at full resolution: S's training input. */
export async function fusePairs(fParams: Params, pairs: TrainPair[]): Promise<void> {
  for (const p of pairs) {
    const y = tf.tidy(() => {
      const x = padToMultiple(planesToTensor([p.ir, p.vi], p.height, p.width), fusion.stride);
      return cropTo(tf.clipByValue(fusion.apply(fParams, x), 0, 1) as tf.Tensor4D, p.height, p.width);
    });
    p.fused = await tensorToPlane(y);
    y.dispose();
  }
}

/**
 * S with its heads adapted to `fParams`'s fused images of `pairs` (those with labels); see the
 * module comment. `sParams` is not changed: the result is a new set of parameters (the caller
 * disposes it). @throws when no pair has a label.
 */
export async function adaptTaskHeads(
  fParams: Params, sParams: Params, pairs: readonly TrainPair[], o: AdaptTaskOptions, onStep?: (log: StepLog) => void | Promise<void>,
): Promise<Params> {
  const labelled = pairs.filter((p) => p.label).map((p) => ({ ...p }));
  if (labelled.length === 0) throw new Error('adapting S needs labelled training pairs; none has a label');
  await fusePairs(fParams, labelled);
  const adapted: Params = Object.fromEntries(Object.entries(sParams).map(([k, v]) => {
    const copy = v.clone();
    const variable = tf.variable(copy, true);
    copy.dispose();
    return [k, variable];
  }));
  const heads = Object.fromEntries(segdetParamNames(['seg', 'det']).map((n) => [n, adapted[n]]));
  const optimizer = new Adam(heads);
  const weights = { ...DEFAULT_SEGDET_WEIGHTS, classWeights: msrsClassWeights() };
  const maxSide = Math.min(...labelled.map((p) => Math.min(p.width, p.height)));
  try {
    for await (const log of trainLoop({
      params: heads, optimizer, steps: o.steps, seed: o.seed, lr: o.lr, warmup: Math.min(50, Math.floor(o.steps / 10)),
      loss: (_step, rng) => {
        const side = scaledCropSide(o.crop, rng, maxSide);
        const b = sampleCrops(labelled, { batch: o.batch, cropHeight: side, cropWidth: side }, rng);
        const a = augmentTaskBatch(b, { crop: o.crop }, rng);
        // Every pair here has a label; one without boxes has no objects to detect.
        const targets = encodeBatch(a.boxes ?? Array.from({ length: o.batch }, () => []), o.crop, o.crop);
        const l = segdetObjective(segdet.apply(adapted, a.rgb), a.labels!, targets, weights);
        disposeTargets(targets);
        return l;
      },
    })) await onStep?.(log);
  } catch (e) {
    tf.dispose(Object.values(adapted));
    throw e;
  } finally {
    optimizer.dispose();
  }
  return adapted;
}
