/**
 * The app's one store (zustand), in slices: this file's (worker, pairs, settings, import
 * report, log), the results of every run on every pair (`results.ts`) and fine-tuning
 * (`lab.ts`). Serialisable values only; bitmaps, masks, Blobs and object URLs live in
 * `../cache.ts` under the same keys. Updates copy, never mutate.
 */
import { create, type StateCreator } from 'zustand';
import type { BackendChoice, BackendInfo, ModelStatus } from '../../protocol/messages';
import type { Progress } from '../../client';
import { createLabSlice, type LabSlice } from './lab';
import { createResultsSlice, newResult, PRETRAINED, resultKey, type ResultState, type ResultsSlice } from './results';
import { createVideoSlice, withoutVideo, type VideoSlice } from './video';

/** A ground-truth box: x1, y1, x2, y2, class index (detection classes). */
export type GtBox = [number, number, number, number, number];

export type ViewName = 'ir' | 'vi' | 'fused';
export type ViewMode = 'overlay' | 'swipe' | 'grid';

/** One IR/VI pair in the list (its results are in `results`, run `pretrained` and others). */
export interface PairState {
  id: string;
  name: string;
  origin: 'sample' | 'user';
  /** Day/night for MSRS samples. */
  time?: 'day' | 'night';
  /** Paths as given (for the report and tooltips). */
  paths: { ir: string; vi: string; label?: string };
  /** Ground-truth boxes (bundled samples), in pixels of the original image. */
  gt?: GtBox[];
  /**
   * What the person chose for a pair whose aspect ratios differ (until then its results are
   * held unfused): stretch the visible image onto the infrared one, or centre-crop it first.
   */
  aspect?: 'stretch' | 'crop';
  /** Set for a video pair (its state is in the video slice). */
  media?: 'video';
}

export interface WorkerState {
  status: 'starting' | 'loading' | 'ready' | 'switching' | 'error';
  progress: Progress | null;
  backend: BackendInfo | null;
  models: ModelStatus[];
  classes: { seg: string[]; det: string[] };
  warmupMs?: number;
  error?: string;
  /** Time the first overlay was drawn, ms since navigation start. */
  firstOverlayMs?: number;
}

export interface LogEntry {
  time: number;
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface Settings {
  backendChoice: BackendChoice;
  viewMode: ViewMode;
  /** Base image of the overlay view. */
  base: ViewName;
  swipeA: ViewName;
  swipeB: ViewName;
  showSeg: boolean;
  segSource: 'pred' | 'label';
  /** Segmentation overlay opacity, 0..1. */
  segOpacity: number;
  /** Class ids hidden in the overlay. */
  segHidden: number[];
  showDet: boolean;
  showGt: boolean;
  /** Detection score threshold, 0..1. */
  detThreshold: number;
  maxSide: number;
}

export interface ImportReport {
  /** Files not in any pair, with the reason (from pairing). */
  unmatched: { path: string; reason: string }[];
  /** Number of import batches so far. */
  batches: number;
  lastBatch?: { files: number; pairs: number; unmatched: number };
}

export interface AppSlice {
  worker: WorkerState;
  pairs: Record<string, PairState>;
  order: string[];
  selectedId: string | null;
  settings: Settings;
  report: ImportReport;
  log: LogEntry[];

  setWorker(patch: Partial<WorkerState>): void;
  addPairs(pairs: PairState[], select?: boolean): void;
  removePair(id: string): void;
  /** The service worker: none, the app cached for offline use, or a new version waiting. */
  offline: 'none' | 'ready' | 'update';
  setOffline(offline: Store['offline']): void;
  /** Records the choice for a held pair and fuses each of its results again with it. */
  setPairAspect(id: string, aspect: NonNullable<PairState['aspect']>): void;
  clearUserPairs(): void;
  select(id: string | null): void;
  setSettings(patch: Partial<Settings>): void;
  toggleClass(cls: number): void;
  addUnmatched(items: { path: string; reason: string }[], batch: ImportReport['lastBatch']): void;
  clearReport(): void;
  addLog(level: LogEntry['level'], message: string): void;
}

export type Store = AppSlice & ResultsSlice & LabSlice & VideoSlice;

function initialBackendChoice(): BackendChoice {
  const q = new URLSearchParams(globalThis.location?.search ?? '').get('backend');
  return q === 'webgpu' || q === 'wasm' || q === 'webgl' || q === 'cpu' || q === 'auto' ? q : 'auto';
}

export const defaultSettings: Settings = {
  backendChoice: 'auto',
  viewMode: 'overlay',
  base: 'fused',
  swipeA: 'ir',
  swipeB: 'fused',
  showSeg: true,
  segSource: 'pred',
  segOpacity: 0.5,
  segHidden: [],
  showDet: true,
  showGt: false,
  detThreshold: 0.3,
  maxSide: 2048,
};

/** The results whose pair is still there. */
function resultsOfPairs(results: Record<string, ResultState>, pairs: Record<string, PairState>): Record<string, ResultState> {
  return Object.fromEntries(Object.entries(results).filter(([, r]) => pairs[r.pairId]));
}

const createAppSlice: StateCreator<Store, [], [], AppSlice> = (set) => ({
  worker: { status: 'starting', progress: null, backend: null, models: [], classes: { seg: [], det: [] } },
  pairs: {},
  order: [],
  selectedId: null,
  settings: { ...defaultSettings, backendChoice: initialBackendChoice() },
  report: { unmatched: [], batches: 0 },
  log: [],

  setWorker: (patch) => set((s) => ({ worker: { ...s.worker, ...patch } })),
  addPairs: (pairs, select = false) => set((s) => {
    const next = { ...s.pairs };
    for (const p of pairs) next[p.id] = p;
    const order = [...s.order, ...pairs.map((p) => p.id).filter((id) => !s.pairs[id])];
    const selectedId = select && pairs.length ? pairs[0].id : s.selectedId ?? pairs[0]?.id ?? null;
    // Every pair is fused by the pretrained models as soon as it arrives.
    const results = { ...s.results };
    for (const p of pairs) results[resultKey(PRETRAINED, p.id)] = newResult(PRETRAINED, p.id);
    return { pairs: next, order, selectedId, results };
  }),
  removePair: (id) => set((s) => {
    const { [id]: _gone, ...rest } = s.pairs;
    const order = s.order.filter((x) => x !== id);
    const i = s.order.indexOf(id);
    const selectedId = s.selectedId === id ? order[Math.min(i, order.length - 1)] ?? null : s.selectedId;
    return { pairs: rest, order, selectedId, results: resultsOfPairs(s.results, rest), ...withoutVideo(s, id) };
  }),
  setPairAspect: (id, aspect) => set((s) => {
    if (!s.pairs[id]) return {};
    const results = { ...s.results };
    for (const [k, r] of Object.entries(results)) if (r.pairId === id) results[k] = newResult(r.runId, id);
    return { pairs: { ...s.pairs, [id]: { ...s.pairs[id], aspect } }, results };
  }),
  clearUserPairs: () => set((s) => {
    const order = s.order.filter((id) => s.pairs[id]?.origin === 'sample');
    const pairs = Object.fromEntries(order.map((id) => [id, s.pairs[id]]));
    const selectedId = s.selectedId && pairs[s.selectedId] ? s.selectedId : order[0] ?? null;
    return { pairs, order, selectedId, results: resultsOfPairs(s.results, pairs), report: { unmatched: [], batches: 0 }, videos: {}, playing: null, live: null };
  }),
  select: (id) => set({ selectedId: id }),
  offline: 'none',
  setOffline: (offline) => set({ offline }),
  setSettings: (patch) => set((s) => ({ settings: { ...s.settings, ...patch } })),
  toggleClass: (cls) => set((s) => {
    const hidden = s.settings.segHidden.includes(cls)
      ? s.settings.segHidden.filter((c) => c !== cls)
      : [...s.settings.segHidden, cls];
    return { settings: { ...s.settings, segHidden: hidden } };
  }),
  addUnmatched: (items, batch) => set((s) => ({
    report: { unmatched: [...s.report.unmatched, ...items], batches: s.report.batches + 1, lastBatch: batch },
  })),
  clearReport: () => set({ report: { unmatched: [], batches: 0 } }),
  addLog: (level, message) => set((s) => ({ log: [...s.log.slice(-49), { time: Date.now(), level, message }] })),
});

export const useStore = create<Store>()((...a) => ({
  ...createAppSlice(...a),
  ...createResultsSlice(...a),
  ...createLabSlice(...a),
  ...createVideoSlice(...a),
}));

/** The selected pair, or null. */
export function useSelectedPair(): PairState | null {
  return useStore((s) => (s.selectedId ? s.pairs[s.selectedId] ?? null : null));
}

/** A run's result on a pair (the pretrained one by default), or undefined. */
export function useResult(pairId: string | undefined, runId: string = PRETRAINED): ResultState | undefined {
  return useStore((s) => (pairId ? s.results[resultKey(runId, pairId)] : undefined));
}
