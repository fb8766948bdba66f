/**
 * The one evaluation of fused pairs, used by the CLI (`fuse`, `finetune --compare`) and the
 * worker: each pair's share of the set's scores (fusion metrics, its confusion matrix, its
 * detections against its boxes), and the scores of a set, or of any multiset of its pairs (a
 * bootstrap resample), from those shares without fusing again. mIoU sums the pixels of the
 * pairs (one confusion matrix), mAP pools their detections, fusion metrics are pair means.
 */
import { FUSION_METRIC_NAMES, DET_CLASSES, NUM_SEG_CLASSES, SEG_CLASSES } from '../types';
import type { Detection, FusionMetrics, GroundTruthBox, RawImage } from '../types';
import { fusionMetrics, fusionMetricsStepwise, toMetricGrey, undefinedMetricReasons } from './fusion-metrics';
import { bootstrapIntervals, type Interval } from './bootstrap';
import { accumulateConfusion, createConfusionMatrix, meanAveragePrecision, segmentationScores, type ConfusionMatrix } from './task-metrics';

/** One pair's share of an evaluation. */
export interface PairEvaluation {
  stem: string;
  /** Null when metrics were not asked for. */
  metrics: FusionMetrics | null;
  /** Why each undefined metric is undefined (only when one is). */
  undefinedMetrics?: Partial<Record<keyof FusionMetrics, string>>;
  /** With a label. */
  confusion: ConfusionMatrix | null;
  /** With boxes (boxes in the evaluated image's pixels). */
  detection: { predictions: Detection[]; truth: GroundTruthBox[] } | null;
}

/** What {@link evaluatePair} reads: the processed sources and the pipeline's outputs, all at one size. */
export interface PairEvaluationInput {
  stem: string;
  ir: RawImage;
  vi: RawImage;
  /** Fused Y, one byte per pixel. */
  fusedY: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  seg: Uint8Array | null;
  label: Uint8Array | null;
  detections: Detection[];
  boxes: GroundTruthBox[] | null;
  /** Compute the nine fusion metrics (default true; the slow part). */
  metrics?: boolean;
}

interface MetricGreys {
  ir: Float64Array;
  vi: Float64Array;
  fused: Float64Array;
}

/** The reference evaluator's inputs: processed IR/VI and fused Y as grey; none when metrics are off. */
function metricGreys(i: PairEvaluationInput): MetricGreys | null {
  if (i.metrics === false) return null;
  return { ir: toMetricGrey(i.ir), vi: toMetricGrey(i.vi), fused: toMetricGrey({ width: i.width, height: i.height, channels: 1, data: i.fusedY }) };
}

function assemble(i: PairEvaluationInput, g: MetricGreys | null, metrics: FusionMetrics | null): PairEvaluation {
  const why = g && metrics ? undefinedMetricReasons(metrics, g.ir, g.vi, g.fused) : {};
  const confusion = i.seg && i.label ? accumulateConfusion(createConfusionMatrix(NUM_SEG_CLASSES), i.seg, i.label) : null;
  const detection = i.boxes ? { predictions: i.detections, truth: i.boxes } : null;
  return { stem: i.stem, metrics, confusion, detection, ...(Object.keys(why).length ? { undefinedMetrics: why } : {}) };
}

/** Evaluates one fused pair (the same inputs as the reference evaluator: processed IR/VI, fused Y as grey). */
export function evaluatePair(i: PairEvaluationInput): PairEvaluation {
  const g = metricGreys(i);
  return assemble(i, g, g && fusionMetrics(g.ir, g.vi, g.fused, i.width, i.height));
}

/** {@link evaluatePair}, awaiting `between()` after each metric (see {@link fusionMetricsStepwise}). */
export async function evaluatePairStepwise(i: PairEvaluationInput, between: () => Promise<void>): Promise<PairEvaluation> {
  const g = metricGreys(i);
  return assemble(i, g, g && await fusionMetricsStepwise(g.ir, g.vi, g.fused, i.width, i.height, between));
}

/** Scores of a set of evaluated pairs. */
export interface SetScores {
  pairs: number;
  /** Mean over the pairs with metrics; null without any. */
  meanMetrics: FusionMetrics | null;
  /** Over the pairs with a label; null without any. mIoU over the classes present in the labels. */
  segmentation: { pairs: number; mIoU: number; perClassIoU: Record<string, number | null> } | null;
  /** Over the pairs with boxes; null without any. */
  detection: { pairs: number; mAP50: number; perClassAP: Record<string, number | null> } | null;
}

/**
 * Scores of `evals`, or of the multiset of them that `indices` picks (repeats count twice).
 */
export function scoreSet(evals: readonly PairEvaluation[], indices?: readonly number[]): SetScores {
  const picked = indices ? indices.map((k) => evals[k]) : evals;
  const rows = picked.flatMap((p) => (p.metrics ? [p.metrics] : []));
  const meanMetrics = rows.length
    ? Object.fromEntries(FUSION_METRIC_NAMES.map((n) => [n, rows.reduce((a, m) => a + m[n], 0) / rows.length])) as unknown as FusionMetrics
    : null;
  const confs = picked.flatMap((p) => (p.confusion ? [p.confusion] : []));
  let segmentation: SetScores['segmentation'] = null;
  if (confs.length) {
    const sum = createConfusionMatrix(NUM_SEG_CLASSES);
    for (const c of confs) for (let k = 0; k < c.counts.length; k++) sum.counts[k] += c.counts[k];
    const s = segmentationScores(sum);
    segmentation = { pairs: confs.length, mIoU: s.mIoU, perClassIoU: Object.fromEntries(SEG_CLASSES.map((c, k) => [c, s.perClassIoU[k]])) };
  }
  const dets = picked.flatMap((p) => (p.detection ? [p.detection] : []));
  let detection: SetScores['detection'] = null;
  if (dets.length) {
    const d = meanAveragePrecision(dets.map((x) => x.predictions), dets.map((x) => x.truth), DET_CLASSES.length, 0.5);
    detection = { pairs: dets.length, mAP50: d.mAP, perClassAP: Object.fromEntries(DET_CLASSES.map((c, k) => [c, d.perClassAP[k]])) };
  }
  return { pairs: picked.length, meanMetrics, segmentation, detection };
}

/** Plain-JSON form of evaluations (confusion counts as arrays), and back. */
export function evaluationsToJson(evals: readonly PairEvaluation[]): unknown {
  return evals.map((p) => ({ ...p, confusion: p.confusion ? { numClasses: p.confusion.numClasses, counts: Array.from(p.confusion.counts) } : null }));
}
export function evaluationsFromJson(x: unknown): PairEvaluation[] {
  return (x as (Omit<PairEvaluation, 'confusion'> & { confusion: { numClasses: number; counts: number[] } | null })[]).map((p) => ({
    ...p, confusion: p.confusion ? { numClasses: p.confusion.numClasses, counts: Float64Array.from(p.confusion.counts) } : null,
  }));
}

/** The set-level scores a comparison reports: the nine fusion metrics, mIoU and mAP@0.5. */
export const SET_SCORE_NAMES = [...FUSION_METRIC_NAMES, 'mIoU', 'mAP50'] as const;
export type SetScoreName = (typeof SET_SCORE_NAMES)[number];

/** The {@link SET_SCORE_NAMES} of a set's scores (NaN where the set has no labels or boxes). */
export function setScoreValues(s: SetScores): Record<SetScoreName, number> {
  const m = s.meanMetrics;
  return {
    ...Object.fromEntries(FUSION_METRIC_NAMES.map((n) => [n, m ? m[n] : NaN])) as Record<(typeof FUSION_METRIC_NAMES)[number], number>,
    mIoU: s.segmentation?.mIoU ?? NaN, mAP50: s.detection?.mAP50 ?? NaN,
  };
}

/**
 * Each set-level score of `evals` with its percentile bootstrap interval over the pairs
 * (NaN bounds where the set has no labels or boxes).
 */
export function setScoreIntervals(evals: readonly PairEvaluation[], o: { resamples?: number; seed?: number } = {}): Record<SetScoreName, Interval> {
  const iv = bootstrapIntervals(evals.length, (idx) => {
    const v = setScoreValues(scoreSet(evals, idx));
    return SET_SCORE_NAMES.map((n) => v[n]);
  }, o);
  return Object.fromEntries(SET_SCORE_NAMES.map((n, k) => [n, iv[k]])) as Record<SetScoreName, Interval>;
}
