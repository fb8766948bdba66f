/**
 * Runs compared on a set of pairs, as a paper reports them: every run's result on every pair of
 * the set (each fused and scored once, through the one scheduler), then per run the nine fusion
 * metrics, mIoU and mAP@0.5 over the set with 95 % bootstrap intervals (computed in the worker),
 * and the table as CSV, JSON or a LaTeX `tabular` with the best value per column in bold.
 */
import { FUSION_METRIC_NAMES } from '../core/types';
import type { Interval, SetScoreName } from '../protocol/messages';
import { saveBlob } from './render';
import { PRETRAINED, resultKey } from './store/results';
import type { Store } from './store/store';

/** The columns of a set table; every one is higher-is-better. */
export const SET_COLUMNS: readonly SetScoreName[] = [...FUSION_METRIC_NAMES, 'mIoU', 'mAP50'];

export type PairSubset = 'all' | 'day' | 'night' | 'labelled' | 'imported';
export const PAIR_SUBSETS: { value: PairSubset; label: string }[] = [
  { value: 'all', label: 'all pairs' }, { value: 'day', label: 'day' }, { value: 'night', label: 'night' },
  { value: 'labelled', label: 'labelled' }, { value: 'imported', label: 'imported' },
];

/** The ids of the pairs in a subset, in list order. */
export function pairsOf(s: Pick<Store, 'order' | 'pairs'>, subset: PairSubset): string[] {
  return s.order.filter((id) => {
    const p = s.pairs[id];
    if (!p) return false;
    switch (subset) {
      case 'all': return true;
      case 'day': case 'night': return p.time === subset || (p.time === undefined && p.name.endsWith(subset === 'day' ? 'D' : 'N'));
      case 'labelled': return Boolean(p.paths.label);
      case 'imported': return p.origin === 'user';
    }
  });
}

/** How far a set is: results scored, failed, and in all. */
export function setProgress(s: Pick<Store, 'results'>, runIds: readonly string[], pairIds: readonly string[]): { scored: number; failed: number; total: number } {
  let scored = 0, failed = 0;
  for (const run of runIds) {
    for (const pair of pairIds) {
      const r = s.results[resultKey(run, pair)];
      if (r?.scoresStatus === 'done' && r.evaluation) scored++;
      else if (r?.status === 'error' || r?.status === 'held' || r?.scoresStatus === 'error') failed++;
    }
  }
  return { scored, failed, total: runIds.length * pairIds.length };
}

/** Asks for every result of the set that has no scores yet (a scored, evicted result is not fused again). */
export function requestSet(s: Pick<Store, 'results' | 'requestResults'>, runIds: readonly string[], pairIds: readonly string[]): void {
  s.requestResults(runIds.flatMap((runId) => pairIds.map((pairId) => ({ runId, pairId })))
    .filter(({ runId, pairId }) => {
      const r = s.results[resultKey(runId, pairId)];
      return !(r?.scoresStatus === 'done' && r.evaluation);
    }));
}

/** Stops a set: its run results still waiting leave the store (the running one is aborted). */
export function cancelSet(s: Pick<Store, 'results' | 'dropResults'>, runIds: readonly string[], pairIds: readonly string[]): void {
  const keys = runIds.filter((r) => r !== PRETRAINED).flatMap((run) => pairIds.map((pair) => resultKey(run, pair)))
    .filter((k) => s.results[k] && s.results[k].status !== 'done');
  s.dropResults(keys);
}

/** One row of a set table. */
export interface SetRow {
  runId: string;
  name: string;
  strategy: string;
  pairs: number;
  scores: Record<SetScoreName, Interval>;
}

/** The best value of each column (undefined where the rows do not differ or have no value). */
export function bestPerColumn(rows: readonly SetRow[]): Partial<Record<SetScoreName, number>> {
  const best: Partial<Record<SetScoreName, number>> = {};
  for (const c of SET_COLUMNS) {
    const vs = rows.map((r) => r.scores[c].value).filter(Number.isFinite);
    if (vs.length > 1 && Math.max(...vs) !== Math.min(...vs)) best[c] = Math.max(...vs);
  }
  return best;
}

/** A score as the tables print it: percentages for mIoU and mAP, three decimals otherwise. */
export function formatScore(c: SetScoreName, v: number): string {
  if (!Number.isFinite(v)) return '';
  return c === 'mIoU' || c === 'mAP50' ? (100 * v).toFixed(1) : v.toFixed(3);
}

function csvCell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV: one line per run, each score with its interval bounds. */
export function setTableCsv(rows: readonly SetRow[]): string {
  const head = ['run', 'strategy', 'pairs', ...SET_COLUMNS.flatMap((c) => [c, `${c}_lo`, `${c}_hi`])];
  const lines = rows.map((r) => [csvCell(r.name), r.strategy, String(r.pairs),
    ...SET_COLUMNS.flatMap((c) => [r.scores[c].value, r.scores[c].lo, r.scores[c].hi].map((v) => (Number.isFinite(v) ? String(v) : '')))].join(','));
  return [head.join(','), ...lines].join('\n') + '\n';
}

function latexText(s: string): string {
  return s.replace(/[\\&%$#_{}~^]/g, (ch) => (ch === '\\' ? '\\textbackslash{}' : ch === '~' ? '\\textasciitilde{}' : ch === '^' ? '\\textasciicircum{}' : `\\${ch}`));
}

/** A LaTeX `tabular` (booktabs rules), the best value of each column in bold. */
export function setTableLatex(rows: readonly SetRow[], caption: string): string {
  const best = bestPerColumn(rows);
  const cols = SET_COLUMNS.filter((c) => rows.some((r) => Number.isFinite(r.scores[c].value)));
  const head = cols.map((c) => (c === 'mIoU' ? 'mIoU (\\%)' : c === 'mAP50' ? 'mAP@0.5 (\\%)' : c));
  const body = rows.map((r) => [latexText(r.name), ...cols.map((c) => {
    const v = r.scores[c].value;
    const text = formatScore(c, v) || '--';
    return best[c] === v ? `\\textbf{${text}}` : text;
  })].join(' & ') + ' \\\\');
  return [
    `% ${latexText(caption)}`,
    `\\begin{tabular}{l${'r'.repeat(cols.length)}}`,
    '\\toprule',
    `Run & ${head.join(' & ')} \\\\`,
    '\\midrule',
    ...body,
    '\\bottomrule',
    '\\end{tabular}',
  ].join('\n') + '\n';
}

/** Downloads a set table; the file name says the pair set and how many runs. */
export function exportSetTable(rows: readonly SetRow[], set: { subset: PairSubset; pairs: number }, format: 'csv' | 'json' | 'tex'): void {
  const base = `set_${set.subset}_${set.pairs}pairs_${rows.length}runs`;
  const text = format === 'csv' ? setTableCsv(rows)
    : format === 'tex' ? setTableLatex(rows, `${rows.length} runs on ${set.pairs} pairs (${set.subset}); 95 % bootstrap intervals in the CSV/JSON`)
      : JSON.stringify({ subset: set.subset, pairs: set.pairs, interval: '95 % percentile bootstrap over pairs', rows }, null, 2);
  const type = format === 'csv' ? 'text/csv' : format === 'tex' ? 'application/x-tex' : 'application/json';
  saveBlob(new Blob([text], { type }), `${base}.${format}`);
}

/** A run as a point of the trade-off plot. */
export interface TradeoffPoint {
  runId: string;
  x: number;
  y: number;
}

/**
 * The points no other point beats on both axes (higher is better on each), by increasing x:
 * the Pareto front of the trade-off plot.
 */
export function paretoFront<P extends TradeoffPoint>(points: readonly P[]): P[] {
  const front = points.filter((p) => !points.some((q) => q !== p && q.x >= p.x && q.y >= p.y && (q.x > p.x || q.y > p.y)));
  return front.sort((a, b) => a.x - b.x);
}
