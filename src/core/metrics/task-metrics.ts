/**
 * Task metrics: segmentation mIoU from an accumulated confusion matrix, and detection
 * mAP@0.5 with PASCAL VOC all-point interpolation (docs/metrics.md). Framework-free, float64.
 */
import type { Detection, GroundTruthBox } from '../types';
import { iou } from '../detect/boxes';

/**
 * Pixel counts accumulated over images: `counts[gt * numClasses + pred]` is the number of pixels
 * of ground-truth class `gt` predicted as `pred`.
 */
export interface ConfusionMatrix {
  numClasses: number;
  counts: Float64Array;
}

/** An empty `numClasses × numClasses` confusion matrix. */
export function createConfusionMatrix(numClasses: number): ConfusionMatrix {
  if (!(Number.isInteger(numClasses) && numClasses > 0)) throw new Error(`createConfusionMatrix: bad class count ${numClasses}`);
  return { numClasses, counts: new Float64Array(numClasses * numClasses) };
}

/**
 * Adds one image's pixels to `conf` (in place) and returns it. `pred` and `gt` are class-index
 * maps of the same length (row-major, any size). Pixels whose ground truth is outside
 * `0..numClasses-1` (e.g. an ignore label 255) are skipped.
 * @throws Error when the lengths differ or a prediction is not a valid class index.
 */
export function accumulateConfusion(conf: ConfusionMatrix, pred: ArrayLike<number>, gt: ArrayLike<number>): ConfusionMatrix {
  const n = conf.numClasses;
  if (pred.length !== gt.length) throw new Error(`accumulateConfusion: prediction has ${pred.length} pixels, ground truth ${gt.length}`);
  for (let i = 0; i < gt.length; i++) {
    const g = gt[i];
    if (!(g >= 0 && g < n && Number.isInteger(g))) continue;
    const p = pred[i];
    if (!(p >= 0 && p < n && Number.isInteger(p))) throw new Error(`accumulateConfusion: prediction ${p} at pixel ${i} is not a class in 0..${n - 1}`);
    conf.counts[g * n + p]++;
  }
  return conf;
}

/** Confusion matrix of a whole evaluated set: `preds[k]` against `gts[k]` for every image k. */
export function confusionMatrix(preds: ArrayLike<number>[], gts: ArrayLike<number>[], numClasses: number): ConfusionMatrix {
  if (preds.length !== gts.length) throw new Error(`confusionMatrix: ${preds.length} predictions for ${gts.length} ground truths`);
  const conf = createConfusionMatrix(numClasses);
  for (let k = 0; k < preds.length; k++) accumulateConfusion(conf, preds[k], gts[k]);
  return conf;
}

/** Segmentation scores of a confusion matrix (fractions in 0..1). */
export interface SegmentationScores {
  /** Mean IoU over the classes present in the ground truth; NaN when no pixel was counted. */
  mIoU: number;
  /** IoU = TP / (TP + FP + FN) per class; null for classes absent from the ground truth. */
  perClassIoU: (number | null)[];
}

/**
 * Per-class IoU and mIoU, computed once over the whole set (pixels summed over images, as
 * SeAFusion's MSRS evaluation does; not a mean of per-image IoUs).
 *
 * Every class counts, including class 0 ('unlabelled' in MSRS): SeAFusion and the papers after
 * it report MSRS mIoU over all 9 classes with the background included, and we follow them so
 * numbers are comparable. A class that never occurs in the ground truth of the evaluated set is
 * null and left out of the mean (its IoU would be 0 if predicted, undefined if not; either way
 * it says nothing about the set), so a small test set without, say, guardrail is not penalised.
 */
export function segmentationScores(conf: ConfusionMatrix): SegmentationScores {
  const n = conf.numClasses;
  const c = conf.counts;
  const perClassIoU: (number | null)[] = [];
  let sum = 0;
  let present = 0;
  for (let k = 0; k < n; k++) {
    let gtTotal = 0;
    let predTotal = 0;
    for (let j = 0; j < n; j++) {
      gtTotal += c[k * n + j];
      predTotal += c[j * n + k];
    }
    if (gtTotal === 0) {
      perClassIoU.push(null);
      continue;
    }
    const tp = c[k * n + k];
    const iou = tp / (gtTotal + predTotal - tp);
    perClassIoU.push(iou);
    sum += iou;
    present++;
  }
  return { mIoU: present ? sum / present : NaN, perClassIoU };
}

/** Detection scores (fractions in 0..1). */
export interface DetectionScores {
  /** Mean of the per-class APs that are not null; NaN when no class has ground truth. */
  mAP: number;
  /** Average precision per class; null for classes with no ground-truth box in the set. */
  perClassAP: (number | null)[];
}


/**
 * VOC all-point interpolated AP from precision/recall at each ranked detection:
 * the area under the precision envelope (precision made monotonically non-increasing).
 */
function vocAllPointAP(recall: number[], precision: number[]): number {
  const mrec = [0, ...recall, 1];
  const mpre = [0, ...precision, 0];
  for (let i = mpre.length - 2; i >= 0; i--) mpre[i] = Math.max(mpre[i], mpre[i + 1]);
  let ap = 0;
  for (let i = 1; i < mrec.length; i++) {
    if (mrec[i] !== mrec[i - 1]) ap += (mrec[i] - mrec[i - 1]) * mpre[i];
  }
  return ap;
}

/**
 * mAP at an IoU threshold (default 0.5), PASCAL VOC style (devkit `VOCevalDet`, py-faster-rcnn
 * `voc_eval`) with all-point interpolation (VOC2010+):
 * per class, the detections of all images are ranked by score (ties keep input order); each is
 * a true positive when its best-overlapping ground-truth box of that class in its image has
 * IoU > threshold (strictly, as the devkit) and was not already matched by a higher-scored
 * detection, else a false positive (no fall-back to the second-best box). Boxes have no
 * "difficult" flag; IoU uses continuous coordinates (no VOC "+1 pixel"). Classes with no
 * ground-truth box are null and excluded from the mean; a
 * class with ground truth but no detection has AP 0.
 *
 * @param predictions per image, boxes `[x1, y1, x2, y2, class, score]` in pixels.
 * @param groundTruth per image (same order), boxes `[x1, y1, x2, y2, class]` in pixels.
 * @throws Error when the image counts differ or a class index is out of range.
 */
export function meanAveragePrecision(
  predictions: Detection[][],
  groundTruth: GroundTruthBox[][],
  numClasses: number,
  iouThreshold = 0.5,
): DetectionScores {
  if (predictions.length !== groundTruth.length) {
    throw new Error(`meanAveragePrecision: ${predictions.length} prediction lists for ${groundTruth.length} images`);
  }
  const checkClass = (c: number, what: string): void => {
    if (!(Number.isInteger(c) && c >= 0 && c < numClasses)) throw new Error(`meanAveragePrecision: ${what} class ${c} is not in 0..${numClasses - 1}`);
  };
  groundTruth.forEach((boxes) => boxes.forEach((b) => checkClass(b[4], 'ground-truth')));
  predictions.forEach((dets) => dets.forEach((d) => checkClass(d[4], 'predicted')));

  const perClassAP: (number | null)[] = [];
  let sum = 0;
  let counted = 0;
  for (let c = 0; c < numClasses; c++) {
    const gts = groundTruth.map((boxes) => boxes.filter((b) => b[4] === c));
    const nGt = gts.reduce((s, g) => s + g.length, 0);
    if (nGt === 0) {
      perClassAP.push(null);
      continue;
    }
    const used = gts.map((g) => new Array<boolean>(g.length).fill(false));
    const dets: { img: number; box: Detection }[] = [];
    predictions.forEach((list, img) => list.forEach((box) => { if (box[4] === c) dets.push({ img, box }); }));
    dets.sort((a, b) => b.box[5] - a.box[5]); // stable: equal scores keep input order
    let tp = 0;
    let fp = 0;
    const recall: number[] = [];
    const precision: number[] = [];
    for (const { img, box } of dets) {
      let best = -Infinity;
      let bestJ = -1;
      gts[img].forEach((g, j) => {
        const overlap = iou(box, g);
        if (overlap > best) { best = overlap; bestJ = j; }
      });
      if (bestJ >= 0 && best > iouThreshold && !used[img][bestJ]) {
        used[img][bestJ] = true;
        tp++;
      } else {
        fp++;
      }
      recall.push(tp / nGt);
      precision.push(tp / (tp + fp));
    }
    const ap = vocAllPointAP(recall, precision);
    perClassAP.push(ap);
    sum += ap;
    counted++;
  }
  return { mAP: counted ? sum / counted : NaN, perClassAP };
}
