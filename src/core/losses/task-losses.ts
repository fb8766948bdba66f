/**
 * Task losses of the segmenter + detector S: class-weighted segmentation cross-entropy and
 * the CenterNet detection loss. Both are differentiable on the WASM backend and numerically
 * stable for any logits (log-softmax and softplus, no log of a probability).
 *
 * Returned tensors belong to the caller; intermediates are freed with `tf.tidy`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { NUM_DET_CLASSES } from '../types';
import type { DetectionTargetTensors } from '../detect/centernet';
import { channel } from '../nn/layers';
import { webgpuPrograms } from '../nn/webgpu-programs';
import { detectionLossesWebgpu, segmentationLossWebgpu } from './task-losses-webgpu';

// ---------------------------------------------------------------------------------------------
// Segmentation

/**
 * Pixel share of each MSRS class on our `msrs/train` split (data README), in class-index
 * order: unlabelled, car, person, bike, curve, car_stop, guardrail, color_cone, bump.
 */
export const MSRS_PIXEL_SHARE: readonly number[] = [0.925, 0.039, 0.011, 0.0074, 0.0056, 0.0051, 0.0012, 0.002, 0.0035];

/**
 * ENet class weights (Paszke et al. 2016): `w_c = 1 / ln(c + p_c)` with p_c the pixel share.
 * With c = 1.02 the weights stay bounded (≤ 1/ln 1.02 ≈ 50) for very rare classes, unlike
 * inverse or median frequency, which would weight guardrail (0.12 %) ~800× over background.
 */
export function enetClassWeights(shares: readonly number[], c = 1.02): number[] {
  return shares.map((p) => 1 / Math.log(c + p));
}

/**
 * Class weights for MSRS segmentation: the square root of {@link enetClassWeights} of
 * {@link MSRS_PIXEL_SHARE} (≈ unlabelled 1.2, car 4.2, person 5.7, bike 6.1, curve 6.3,
 * car_stop 6.4, guardrail 6.9, color_cone 6.8, bump 6.6). The full ENet weights (person 33×
 * background) made the first S paint foreground on 18.5 % of the test pixels against 6.5 % in
 * the labels; the square root keeps rare classes visible to the loss without that bias.
 */
export function msrsClassWeights(): number[] {
  return enetClassWeights(MSRS_PIXEL_SHARE).map(Math.sqrt);
}

/**
 * Class-weighted softmax cross-entropy, normalised by the sum of the pixel weights (as
 * PyTorch's `CrossEntropyLoss(weight)`): `Σ_p w[y_p]·(−log softmax(z_p)[y_p]) / Σ_p w[y_p]`.
 * Labels outside `0..C−1` (e.g. 255 for padding) are ignored (weight 0). A scalar.
 *
 * @param logits `[B,H,W,C]` raw scores (C = 9 for MSRS).
 * @param labels `[B,H,W]` int32 class indices.
 * @param classWeights C weights (default all 1; use {@link msrsClassWeights} for MSRS).
 */
export function segmentationLoss(
  logits: tf.Tensor4D, labels: tf.Tensor3D, classWeights?: readonly number[],
): tf.Scalar {
  const c = logits.shape[3];
  checkLabelShape('segmentationLoss', logits, labels);
  if (classWeights && classWeights.length !== c) {
    throw new Error(`segmentationLoss: ${classWeights.length} class weights for ${c} classes`);
  }
  if (webgpuPrograms()) return segmentationLossWebgpu(logits, labels, classWeights);
  return tf.tidy(() => {
    const { onehot, rows } = pixelRows(logits, labels);
    const nll = tf.neg(tf.sum(tf.mul(onehot, tf.logSoftmax(rows)), 1));
    const wts = classWeights ? tf.tensor1d(classWeights as number[], 'float32') : tf.ones([c]);
    const pw = tf.sum(tf.mul(onehot, wts), 1);
    return tf.div(tf.sum(tf.mul(pw, nll)), tf.maximum(tf.sum(pw), 1e-12)) as tf.Scalar;
  });
}

function checkLabelShape(who: string, logits: tf.Tensor4D, labels: tf.Tensor3D): void {
  const [b, h, w] = logits.shape;
  if (labels.rank !== 3 || labels.shape[0] !== b || labels.shape[1] !== h || labels.shape[2] !== w) {
    throw new Error(`${who}: labels [${labels.shape.join(',')}] do not match logits [${logits.shape.join(',')}]`);
  }
}

/**
 * The logits as rows `[B·H·W, C]` and the labels as one-hot rows beside them. oneHot gives an
 * all-zero row for an out-of-range label, which is how both segmentation losses ignore it.
 */
function pixelRows(logits: tf.Tensor4D, labels: tf.Tensor3D): { onehot: tf.Tensor2D; rows: tf.Tensor2D } {
  const [b, h, w, c] = logits.shape;
  const lab = labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32');
  return {
    // float32 written by a kernel (× 1), not by oneHot's dtype (WASM writes int32 bits into a
    // float32 output) nor by a cast (on WebGPU an int32→float32 cast only relabels the buffer,
    // and the transpose in `columnSums` then fails to compile).
    onehot: tf.mul(tf.oneHot(tf.reshape(lab, [b * h * w]), c), tf.scalar(1)) as tf.Tensor2D,
    rows: tf.reshape(logits, [b * h * w, c]),
  };
}

/**
 * The sums of `[N, C]` rows over N, summed as `[1, N, C]`: a sum over axis 0 of a 2-D tensor goes
 * through WebGPU's 2-D transpose, which dispatches N/16 workgroups in one dimension and fails
 * past 65,535 of them (about a million pixels: a batch of 12 at 384×384).
 */
function columnSums(rows: tf.Tensor2D): tf.Tensor1D {
  const [n, c] = rows.shape;
  return tf.reshape(tf.sum(tf.reshape(rows, [1, n, c]), 1), [c]);
}

/**
 * Soft Dice loss over the classes present in the batch: `mean_c (1 − 2Σ p_c·g_c / (Σ p_c + Σ g_c))`
 * with p the softmax and g the one-hot labels, all pixels of the batch pooled. Each present class
 * counts the same however few its pixels, which is what mIoU scores and what the pixel-wise
 * cross-entropy (even class-weighted) does not: there a class on 0.1 % of the pixels is 0.1 % of
 * the loss. Labels outside `0..C−1` are ignored. A scalar (0 when no class is present).
 */
export function segmentationDiceLoss(logits: tf.Tensor4D, labels: tf.Tensor3D): tf.Scalar {
  checkLabelShape('segmentationDiceLoss', logits, labels);
  return tf.tidy(() => {
    const { onehot, rows } = pixelRows(logits, labels);
    // Ignored pixels (all-zero one-hot rows) leave the prediction sums too.
    const p: tf.Tensor2D = tf.mul(tf.softmax(rows), tf.sum(onehot, 1, true));
    const g = columnSums(onehot);
    const dice = tf.div(tf.mul(2, columnSums(tf.mul<tf.Tensor2D>(p, onehot))), tf.add(tf.add(columnSums(p), g), 1e-6));
    const present = tf.cast(tf.greater(g, 0), 'float32');
    return tf.div(tf.sum(tf.mul(tf.sub(1, dice), present)), tf.maximum(tf.sum(present), 1)) as tf.Scalar;
  });
}

// ---------------------------------------------------------------------------------------------
// Detection (CenterNet)

/** Weights of the two detection terms. */
export interface DetectionLossWeights {
  /** Heat-map focal loss (default 1). */
  heat?: number;
  /** Box GIoU loss at object centres (default 1). */
  box?: number;
}

/** The detection loss and its terms (weighted total and unweighted terms), all scalars owned by the caller. */
export interface DetectionLossTerms {
  total: tf.Scalar;
  heat: tf.Scalar;
  box: tf.Scalar;
}

/**
 * CenterNet loss terms for a batch.
 *
 * * heat: penalty-reduced pixel-wise focal loss (α = 2, β = 4) on sigmoid heat maps,
 *   `−1/N Σ { (1−p)^α log p  at y = 1;  (1−y)^β p^α log(1−p)  otherwise }`, N = number of
 *   centres (heat-map cells equal to 1) in the batch, at least 1. `log p = −softplus(−z)` and
 *   `log(1−p) = −softplus(z)` keep it finite for any logit z (no clamping needed).
 * * box: `1 − GIoU` (Rezatofighi et al., CVPR 2019) between the predicted and the target box at
 *   object centres (mask), averaged over objects. Both boxes hang off the same anchor, so areas,
 *   intersection and hull follow from the four distances alone; GIoU is scale-free, so a 10-px
 *   pedestrian counts as much as a 200-px car. Predicted distances are clamped at 0 (a box
 *   cannot have a negative side).
 *
 * @param det `[B,h,w,7]` raw head output (channels 0..2 heat logits, 3..6 box distances).
 * @param targets from `encodeBatch`/`targetsToTensors` (detect/centernet.ts).
 */
export function detectionLossTerms(
  det: tf.Tensor4D, targets: DetectionTargetTensors, weights: DetectionLossWeights = {},
): DetectionLossTerms {
  const [b, h, w, c] = det.shape;
  const nc = NUM_DET_CLASSES;
  if (c !== nc + 4) throw new Error(`detectionLoss: expected ${nc + 4} channels, got ${c}`);
  const ts = targets.heatmap.shape;
  if (ts[0] !== b || ts[1] !== h || ts[2] !== w || ts[3] !== nc) {
    throw new Error(`detectionLoss: targets [${ts.join(',')}] do not match head [${det.shape.join(',')}]`);
  }
  const [heat, box] = webgpuPrograms() ? Object.values(detectionLossesWebgpu(det, targets)) : tf.tidy(() => {
    const z = tf.slice(det, [0, 0, 0, 0], [b, h, w, nc]);
    const gt = targets.heatmap;
    // Centres are exact 1s; the next value on a Gaussian is ≤ exp(−1/(2σ²)) < 0.9996 for the
    // radii that occur (≤ 60 cells), so this threshold only catches float noise.
    const pos = tf.cast(tf.greaterEqual(gt, 1 - 1e-5), 'float32');
    const neg = tf.sub(1, pos);
    const p = tf.sigmoid(z);
    const oneMinusP = tf.sigmoid(tf.neg(z));
    const logP = tf.neg(tf.softplus(tf.neg(z)));
    const log1mP = tf.neg(tf.softplus(z));
    const posTerm = tf.sum(tf.mul(tf.mul(pos, tf.square(oneMinusP)), logP));
    const negW = tf.mul(neg, tf.square(tf.square(tf.sub(1, gt))));
    const negTerm = tf.sum(tf.mul(tf.mul(negW, tf.square(p)), log1mP));
    const nPos = tf.maximum(tf.sum(pos), 1);
    const heatL = tf.div(tf.neg(tf.add(posTerm, negTerm)), nPos);
    return [heatL, boxLoss(tf.slice(det, [0, 0, 0, nc], [b, h, w, 4]), targets)] as tf.Scalar[];
  });
  const total = tf.tidy(() => tf.add(tf.mul(heat, weights.heat ?? 1), tf.mul(box, weights.box ?? 1)) as tf.Scalar);
  return { total, heat, box };
}

/**
 * Mean `1 − GIoU` over the masked cells of predicted vs target (l, t, r, b) distances. Computed
 * on every cell and masked (a gather of the centres would need a synchronous read of the mask).
 */
function boxLoss(pred: tf.Tensor4D, targets: DetectionTargetTensors): tf.Scalar {
  return tf.tidy(() => {
    const sides = (t: tf.Tensor4D) => [0, 1, 2, 3].map((i) => channel(t, i));
    const [pl, pt, pr, pb] = sides(tf.relu(pred));
    const [gl, gt, gr, gb] = sides(targets.box);
    const area = (l: tf.Tensor, t: tf.Tensor, r: tf.Tensor, b: tf.Tensor) => tf.mul(tf.add(l, r), tf.add(t, b));
    const inter = tf.mul(tf.add(tf.minimum(pl, gl), tf.minimum(pr, gr)), tf.add(tf.minimum(pt, gt), tf.minimum(pb, gb)));
    const hull = tf.mul(tf.add(tf.maximum(pl, gl), tf.maximum(pr, gr)), tf.add(tf.maximum(pt, gt), tf.maximum(pb, gb)));
    const union = tf.sub(tf.add(area(pl, pt, pr, pb), area(gl, gt, gr, gb)), inter);
    const eps = 1e-7;
    const giou = tf.sub(tf.div(inter, tf.add(union, eps)), tf.div(tf.sub(hull, union), tf.add(hull, eps)));
    const m = targets.mask;
    return tf.div(tf.sum(tf.mul(m, tf.sub(1, giou))), tf.maximum(tf.sum(m), 1)) as tf.Scalar;
  });
}

/**
 * CenterNet detection loss `w_heat·L_heat + w_box·L_box` (a scalar); see
 * {@link detectionLossTerms}. Default weights (1, 1).
 */
export function detectionLoss(
  det: tf.Tensor4D, targets: DetectionTargetTensors, weights: DetectionLossWeights = {},
): tf.Scalar {
  return tf.tidy(() => detectionLossTerms(det, targets, weights).total);
}
