/**
 * Every fused result the app holds, keyed by run and pair: the pretrained model is the run
 * `pretrained`, a fine-tune is its run id. The store keeps what is serialisable (status,
 * detections, scores); the bitmaps and class maps are in `../cache.ts` under the same key.
 */
import type { StateCreator } from 'zustand';
import type { BackendName, Detection, FusionMetrics, Notice, PairEvaluation, Size } from '../../protocol/messages';

/** The run id of the pretrained models (every pair has a result of it). */
export const PRETRAINED = 'pretrained';

/** Key of a run's result on a pair (store and cache). */
export function resultKey(runId: string, pairId: string): string {
  return `${runId}|${pairId}`;
}

/** Scores of a result: fusion metrics, mIoU against the label, mAP@0.5 against the boxes. */
export type { PairScores } from '../../core/runs/record';
import type { PairScores } from '../../core/runs/record';

export interface ResultState {
  runId: string;
  pairId: string;
  /** `held`: refused until the person decides (a pair whose aspect ratios differ; `error` says why). */
  status: 'queued' | 'fusing' | 'done' | 'held' | 'error';
  /** The result shown is from an earlier backend and a new one is on its way. */
  stale: boolean;
  /** Its images were dropped from the cache: fused again when next shown. */
  evicted: boolean;
  error?: string;
  /** Bumped when new images are in the cache (components redraw on change). */
  version: number;
  size?: Size;
  source?: { ir: Size; vi: Size; label?: Size };
  detections: Detection[];
  notices: Notice[];
  timings?: { decode: number; pipeline: number; total: number };
  backend?: BackendName;
  scoresStatus: 'none' | 'pending' | 'done' | 'error';
  scores?: PairScores;
  /** The pair's share of set-level scores (kept when the images are evicted). */
  evaluation?: PairEvaluation;
  scoresMs?: number;
}

export interface ResultsSlice {
  results: Record<string, ResultState>;
  /** Asks for a result: queued for the scheduler unless it is there or on its way. */
  requestResult(runId: string, pairId: string): void;
  /** {@link requestResult} for many, in one update. */
  requestResults(keys: readonly { runId: string; pairId: string }[]): void;
  updateResult(key: string, patch: Partial<ResultState>): void;
  /** The same patch to many results, in one update. */
  updateResults(keys: readonly string[], patch: Partial<ResultState>): void;
  /** Forgets results (e.g. a failed one, to try again). */
  dropResults(keys: string[]): void;
  /** Marks every shown result for re-fusing (after a backend change), keeping it on screen. */
  requeueAll(): void;
}

export function newResult(runId: string, pairId: string): ResultState {
  return {
    runId, pairId, status: 'queued', stale: false, evicted: false, version: 0, detections: [], notices: [], scoresStatus: 'none',
  };
}

/** Whether a result needs fusing (again) before it can be shown. */
export function needsFusing(r: ResultState | undefined): boolean {
  return !r || (r.status === 'done' && r.evicted);
}

export const createResultsSlice: StateCreator<ResultsSlice, [], [], ResultsSlice> = (set, get) => ({
  results: {},
  requestResult: (runId, pairId) => get().requestResults([{ runId, pairId }]),
  requestResults: (wanted) => set((s) => {
    const results = { ...s.results };
    for (const { runId, pairId } of wanted) {
      const key = resultKey(runId, pairId);
      const r = results[key];
      if (!r || needsFusing(r)) results[key] = r ? { ...r, status: 'queued' } : newResult(runId, pairId);
    }
    return { results };
  }),
  updateResult: (key, patch) => set((s) => (s.results[key] ? { results: { ...s.results, [key]: { ...s.results[key], ...patch } } } : {})),
  updateResults: (keys, patch) => set((s) => {
    const results = { ...s.results };
    for (const k of keys) if (results[k]) results[k] = { ...results[k], ...patch };
    return { results };
  }),
  dropResults: (keys) => set((s) => ({ results: Object.fromEntries(Object.entries(s.results).filter(([k]) => !keys.includes(k))) })),
  requeueAll: () => set((s) => ({
    results: Object.fromEntries(Object.entries(s.results).map(([k, r]) => [k,
      (r.status === 'done' && !r.evicted) || r.status === 'fusing' ? { ...r, status: 'queued', stale: true, scoresStatus: 'none' } : r])),
  })),
});
