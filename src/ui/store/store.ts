/**
 * App state (zustand): serialisable values only — numbers, strings, plain arrays and objects.
 * Bitmaps, masks, Blobs and object URLs live in `../cache.ts`, keyed by pair id.
 * Updates copy, never mutate.
 */
import { create } from 'zustand';
import type {
  BackendChoice, BackendInfo, BackendName, Detection, FusionMetrics, ModelStatus, Notice, Size,
} from '../../protocol/messages';
import type { Progress } from '../../client';

/** A ground-truth box: x1, y1, x2, y2, class index (detection classes). */
export type GtBox = [number, number, number, number, number];

export type PairStatus = 'queued' | 'fusing' | 'done' | 'error';
export type ViewName = 'ir' | 'vi' | 'fused';
export type ViewMode = 'overlay' | 'swipe' | 'grid';

/** One IR/VI pair in the list. */
export interface PairState {
  id: string;
  name: string;
  origin: 'sample' | 'user';
  /** Day/night for MSRS samples. */
  time?: 'day' | 'night';
  /** Paths as given (for the report and tooltips). */
  paths: { ir: string; vi: string; label?: string };
  status: PairStatus;
  /** Result shown is from an earlier backend and a new one is on its way. */
  stale: boolean;
  error?: string;
  /** Bumped when a new result is put in the cache (components redraw on change). */
  version: number;
  /** The result's images were dropped from the cache (re-fused when selected). */
  evicted?: boolean;
  size?: Size;
  source?: { ir: Size; vi: Size; label?: Size };
  detections: Detection[];
  /** Ground-truth boxes (bundled samples), in pixels of the original image. */
  gt?: GtBox[];
  notices: Notice[];
  timings?: { decode: number; pipeline: number; total: number };
  backend?: BackendName;
  metricsStatus: 'none' | 'pending' | 'done' | 'error';
  metrics?: FusionMetrics;
  miou?: number;
  metricsMs?: number;
}

export interface EngineState {
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

export interface AppState {
  engine: EngineState;
  pairs: Record<string, PairState>;
  order: string[];
  selectedId: string | null;
  settings: Settings;
  report: ImportReport;
  log: LogEntry[];

  setEngine(patch: Partial<EngineState>): void;
  addPairs(pairs: PairState[], select?: boolean): void;
  updatePair(id: string, patch: Partial<PairState>): void;
  removePair(id: string): void;
  clearUserPairs(): void;
  select(id: string | null): void;
  setSettings(patch: Partial<Settings>): void;
  toggleClass(cls: number): void;
  addUnmatched(items: { path: string; reason: string }[], batch: ImportReport['lastBatch']): void;
  clearReport(): void;
  addLog(level: LogEntry['level'], message: string): void;
  /** Marks every fused pair for re-fusing (after a backend change), keeping shown results. */
  requeueAll(): void;
}

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

export const useStore = create<AppState>()((set) => ({
  engine: { status: 'starting', progress: null, backend: null, models: [], classes: { seg: [], det: [] } },
  pairs: {},
  order: [],
  selectedId: null,
  settings: { ...defaultSettings, backendChoice: initialBackendChoice() },
  report: { unmatched: [], batches: 0 },
  log: [],

  setEngine: (patch) => set((s) => ({ engine: { ...s.engine, ...patch } })),
  addPairs: (pairs, select = false) => set((s) => {
    const next = { ...s.pairs };
    for (const p of pairs) next[p.id] = p;
    const order = [...s.order, ...pairs.map((p) => p.id).filter((id) => !s.pairs[id])];
    const selectedId = select && pairs.length ? pairs[0].id : s.selectedId ?? pairs[0]?.id ?? null;
    return { pairs: next, order, selectedId };
  }),
  updatePair: (id, patch) => set((s) => (s.pairs[id] ? { pairs: { ...s.pairs, [id]: { ...s.pairs[id], ...patch } } } : {})),
  removePair: (id) => set((s) => {
    const { [id]: _gone, ...rest } = s.pairs;
    const order = s.order.filter((x) => x !== id);
    const i = s.order.indexOf(id);
    const selectedId = s.selectedId === id ? order[Math.min(i, order.length - 1)] ?? null : s.selectedId;
    return { pairs: rest, order, selectedId };
  }),
  clearUserPairs: () => set((s) => {
    const order = s.order.filter((id) => s.pairs[id]?.origin === 'sample');
    const pairs = Object.fromEntries(order.map((id) => [id, s.pairs[id]]));
    const selectedId = s.selectedId && pairs[s.selectedId] ? s.selectedId : order[0] ?? null;
    return { pairs, order, selectedId, report: { unmatched: [], batches: 0 } };
  }),
  select: (id) => set({ selectedId: id }),
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
  requeueAll: () => set((s) => {
    const pairs: Record<string, PairState> = {};
    for (const [id, p] of Object.entries(s.pairs)) {
      pairs[id] = p.status === 'done' || p.status === 'fusing'
        ? { ...p, status: 'queued', stale: true, metricsStatus: 'none' }
        : p;
    }
    return { pairs };
  }),
}));

/** The selected pair, or null. */
export function useSelectedPair(): PairState | null {
  return useStore((s) => (s.selectedId ? s.pairs[s.selectedId] ?? null : null));
}
