/**
 * What `fuse` writes and prints from an evaluation: `metrics.csv`, the baselines' table,
 * `task-metrics.json`, `detections.json`, and (with `--update-cards`) the model cards.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { evaluationsToJson, scoreSet, type PairEvaluation } from '../core/metrics/evaluation';
import { metricCell } from '../core/metrics/fusion-metrics';
import { DET_CLASSES, FUSION_METRIC_NAMES, SEG_CLASSES, type FusionMetrics } from '../core/types';


/** Per-pair evaluations of a `fuse` or `score` output folder. */
export const EVALUATIONS_FILE = 'evaluations.json';

/** Task scores written to `task-metrics.json`. */
export interface TaskMetricsReport {
  segmentation?: { pairs: number; mIoU: number; perClassIoU: Record<string, number | null> };
  detection?: { pairs: number; mAP50: number; perClassAP: Record<string, number | null> };
}

/** What {@link runFuse} did. */
export interface FuseSummary {
  /** Stems fused and written. */
  processed: string[];
  /** Files left out (pairing) or pairs that failed, with the reason. */
  skipped: { path: string; reason: string }[];
  /** Mean fusion metrics over processed pairs (null with metrics off or none processed). */
  meanMetrics: FusionMetrics | null;
  /** Mean metrics of the pixel-wise max and mean fusions (with `baselines`). */
  baselines: Record<BaselineName, FusionMetrics> | null;
  task: TaskMetricsReport | null;
  /**
   * What each processed pair contributes to the set's scores, so that a subset (a bootstrap
   * resample) can be scored again without fusing: fusion metrics, the pair's confusion
   * matrix (with a label) and its detections against its boxes (with boxes).
   */
  perPair: PairEvaluation[];
}

export type BaselineName = 'max' | 'mean';

/**
 * The reference baselines of `shared/golden`: per-pixel max of the grey reads, and their mean
 * rounded half to even (numpy's `round((IR + VI) / 2)`).
 */
export function baselineFusions(ir: Float64Array, vi: Float64Array): Record<BaselineName, Float64Array> {
  const max = new Float64Array(ir.length), mean = new Float64Array(ir.length);
  for (let i = 0; i < ir.length; i++) {
    max[i] = Math.max(ir[i], vi[i]);
    const floor = Math.floor((ir[i] + vi[i]) / 2);
    mean[i] = (ir[i] + vi[i]) % 2 === 0 ? floor : floor + (floor % 2);
  }
  return { max, mean };
}

export function meanOf(rows: FusionMetrics[]): FusionMetrics {
  return Object.fromEntries(FUSION_METRIC_NAMES.map((n) => [n, rows.reduce((a, r) => a + r[n], 0) / rows.length])) as unknown as FusionMetrics;
}

const fmt = (v: number): string => (Number.isFinite(v) ? v.toFixed(6) : String(v));
const pct = (v: number): string => `${(100 * v).toFixed(2)} %`;

/**
 * `detections.json` in the schema of MSRS `detection.json` plus a score per box, one box per
 * line so the file stays readable and diffable.
 */
export function detectionsJson(images: { file: string; width: number; height: number; boxes: number[][] }[]): string {
  const head = {
    classes: [...DET_CLASSES],
    format: 'boxes=[x1,y1,x2,y2,classIndex,score] in pixels of the processed image (x right / y down)',
  };
  const ims = images.map((im) => {
    const boxes = im.boxes.length ? `[\n${im.boxes.map((b) => `    ${JSON.stringify(b)}`).join(',\n')}\n   ]` : '[]';
    return `  {"file": ${JSON.stringify(im.file)}, "width": ${im.width}, "height": ${im.height},\n   "boxes": ${boxes}}`;
  });
  const top = JSON.stringify(head, null, 1).slice(0, -2);
  return `${top},\n "images": [\n${ims.join(',\n')}\n ]\n}\n`;
}

/**
 * Writes `metrics.csv` (with metrics), `baselines.json` (with baseline rows),
 * `task-metrics.json` (with labels or boxes) and `evaluations.json` (each pair's share of the set
 * scores: metrics, confusion matrix, detections; what `npm run rank` turns into intervals) under
 * `out`, and logs their summaries.
 */
export async function writeReports(
  out: string, perPair: PairEvaluation[],
  what: { metrics: boolean; baselineRows: Record<BaselineName, FusionMetrics[]> | null; labels: boolean; boxes: boolean },
  log: (line: string) => void,
): Promise<Pick<FuseSummary, 'meanMetrics' | 'baselines' | 'task'>> {
  const scores = scoreSet(perPair);
  const meanMetrics = scores.meanMetrics;
  await writeFile(path.join(out, EVALUATIONS_FILE), JSON.stringify(evaluationsToJson(perPair)) + '\n');
  const metricRows = perPair.flatMap((e) => (e.metrics ? [{ stem: e.stem, m: e.metrics, why: e.undefinedMetrics ?? {} }] : []));
  if (what.metrics) {
    const lines = [['stem', ...FUSION_METRIC_NAMES].join(',')];
    for (const { stem, m, why } of metricRows) lines.push([stem, ...FUSION_METRIC_NAMES.map((n) => metricCell(m[n], why[n], fmt))].join(','));
    if (meanMetrics) {
      const undefinedOn = (n: (typeof FUSION_METRIC_NAMES)[number]) => `undefined on ${metricRows.filter((r) => r.why[n]).length} pairs`;
      lines.push(['mean', ...FUSION_METRIC_NAMES.map((n) => metricCell(meanMetrics[n], undefinedOn(n), fmt))].join(','));
      log(`mean over ${metricRows.length}: ${FUSION_METRIC_NAMES.map((n) => `${n} ${meanMetrics[n].toFixed(4)}`).join('  ')}`);
    }
    await writeFile(path.join(out, 'metrics.csv'), lines.join('\n') + '\n');
  }
  let baselines: FuseSummary['baselines'] = null;
  if (what.baselineRows && meanMetrics) {
    const baselineRows = what.baselineRows;
    baselines = { max: meanOf(baselineRows.max), mean: meanOf(baselineRows.mean) };
    const table = [
      `| mean over ${metricRows.length} pairs | ${FUSION_METRIC_NAMES.join(' | ')} |`,
      `|---|${FUSION_METRIC_NAMES.map(() => '---:').join('|')}|`,
      ...([['F (this model)', meanMetrics], ['pixel max', baselines.max], ['pixel mean', baselines.mean]] as const)
        .map(([name, m]) => `| ${name} | ${FUSION_METRIC_NAMES.map((n) => m[n].toFixed(3)).join(' | ')} |`),
    ];
    for (const line of table) log(line);
    const beaten = FUSION_METRIC_NAMES.filter((n) => meanMetrics![n] > baselines!.mean[n]);
    log(`F is above the pixel-mean baseline on ${beaten.length}/${FUSION_METRIC_NAMES.length} metrics` +
      (beaten.length < FUSION_METRIC_NAMES.length ? ` (not: ${FUSION_METRIC_NAMES.filter((n) => !beaten.includes(n)).join(', ')})` : ''));
    await writeFile(path.join(out, 'baselines.json'), JSON.stringify(baselines, null, 2) + '\n');
  }

  let task: TaskMetricsReport | null = null;
  if (what.labels || what.boxes) {
    task = {};
    if (what.labels) {
      const seg = scores.segmentation ?? { pairs: 0, mIoU: NaN, perClassIoU: Object.fromEntries(SEG_CLASSES.map((c) => [c, null])) };
      task.segmentation = seg;
      log(`segmentation on ${seg.pairs} pair(s): mIoU ${pct(seg.mIoU)} (classes present in the ground truth)`);
      log('  ' + SEG_CLASSES.map((c) => `${c} ${seg.perClassIoU[c] === null ? '-' : pct(seg.perClassIoU[c]!)}`).join(', '));
    }
    if (what.boxes) {
      const det = scores.detection ?? { pairs: 0, mAP50: NaN, perClassAP: Object.fromEntries(DET_CLASSES.map((c) => [c, null])) };
      task.detection = det;
      log(`detection on ${det.pairs} pair(s): mAP@0.5 ${det.mAP50.toFixed(4)}`);
      log('  ' + DET_CLASSES.map((c) => `${c} ${det.perClassAP[c] === null ? '-' : det.perClassAP[c]!.toFixed(4)}`).join(', '));
    }
    await writeFile(path.join(out, 'task-metrics.json'), JSON.stringify(task, null, 2) + '\n');
  }

  return { meanMetrics, baselines, task };
}

/**
 * Records an evaluation in the model cards (`evaluation` of fusion/card.json and
 * segdet/card.json), with the command that reproduces it.
 */
export async function writeCardEvaluation(modelsDir: string, data: string, s: FuseSummary): Promise<void> {
  const base = {
    command: `npm run fuse -- ${process.argv.slice(2).join(' ')}`,
    date: new Date().toISOString(),
    data,
    pairs: s.processed.length,
  };
  const entries: [string, Record<string, unknown>][] = [
    ['fusion', { ...base, fusionMetrics: s.meanMetrics, baselines: s.baselines }],
    ['segdet', { ...base, ...s.task, input: 'fused images of models/fusion' }],
  ];
  for (const [name, evaluation] of entries) {
    const file = path.join(modelsDir, name, 'card.json');
    const card = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...card, evaluation }, null, 2) + '\n');
  }
}

