/**
 * The store's fine-tuning slice (serialisable values only): the training form, the fine-tune
 * in progress, the runs (records mirrored from IndexedDB, no weights) and what is compared.
 * Run results are in the results slice; weights and bitmaps in `../cache.ts` / IndexedDB.
 */
import type { StateCreator } from 'zustand';
import type { BackendName, FinetuneSpec, LabelSource, LossPoint, StrategyInfoData, StrategyName } from '../../protocol/messages';
import { PRETRAINED, type ResultsSlice } from './results';
import type { StepWork } from '../step-times';
import type { DamagedRun } from '../runs-db';

export type { LossPoint };

export type OptionValue = number | string | boolean;

/** What the training panel is set to. */
export interface TrainForm {
  /**
   * The next fine-tune, passed as it is to the worker and kept with the run: seeded from the
   * worker's strategy list (null until it arrives), edited field by field.
   */
  spec: FinetuneSpec | null;
  /** Each strategy's options as last edited, so that switching strategy keeps the edits. */
  optionsBy: Partial<Record<StrategyName, Record<string, OptionValue>>>;
  /** Refresh the preview every this many steps. */
  previewEvery: number;
  /** Pair ids to train on; empty = every fused pair. */
  pairIds: string[];
  /** Name of the next run (empty: generated). */
  name: string;
  /** Frames sampled from each chosen video pair. */
  videoFrames: number;
}

export interface TrainingState {
  status: 'idle' | 'preparing' | 'running' | 'paused' | 'stopping' | 'saving';
  step: number;
  total: number;
  etaS: number;
  /** Median ms per step of the recent steps, and the backend they ran on (NaN / absent before one). */
  msPerStep: number;
  backend?: BackendName;
  /** What the fine-tune runs (its step time is compared with other backends' for the same). */
  work?: StepWork;
  history: LossPoint[];
  notes: string[];
  labelSources: Record<string, LabelSource>;
  /** Bumped when a new preview bitmap is in the cache. */
  previewVersion: number;
  previewPairId?: string;
  error?: string;
  /** Remaining sweep runs after this one (0 when not sweeping). */
  queued: number;
  /** The run the last fine-tune was kept as (offered for discarding). */
  lastRunId?: string;
}

/** A fine-tune kept in IndexedDB (the record type lives with its schema). */
export type { RunRecord } from '../../core/runs/record';
import { appendHistory, type AdaptedS, type RunRecord } from '../../core/runs/record';

/**
 * Another method compared beside F's runs: a published network run here from its released
 * weights (`peer`), or a folder of fused images the person imported (`imported`; the files are in
 * `../cache.ts`). Kept for the session: the weights ship with the app, the folder is the person's.
 */
export type MethodRun =
  | {
    id: string; kind: 'peer'; peer: string; name: string; citation: string; macs640: number;
    /** The weights: not asked for yet, downloading (`progress` 0..1), ready, or failed (`error`). */
    load: 'none' | 'loading' | 'loaded' | 'error'; progress?: number; error?: string; bytes?: number;
  }
  | { id: string; kind: 'imported'; name: string; files: number };

/** S being adapted to runs' fused images, one run after another (see `../adapt.ts`). */
export interface AdaptingState {
  /** The run whose images S adapts to now (`pretrained` for the pretrained F). */
  runId: string;
  step: number;
  total: number;
  /** Runs still to do after this one. */
  queue: string[];
}

export interface LabSlice {
  open: boolean;
  tab: 'train' | 'compare';
  strategies: StrategyInfoData[];
  form: TrainForm;
  training: TrainingState;
  runs: Record<string, RunRecord>;
  runOrder: string[];
  runsLoaded: boolean;
  /** Stored records that fail the run schema: listed with the reason, never used as runs. */
  damagedRuns: DamagedRun[];
  /** S adapting to runs' images, or null. */
  adapting: AdaptingState | null;
  /** The pretrained F's adapted S this session (its weights in `../cache.ts`); runs keep theirs in their record. */
  pretrainedAdapted: AdaptedS | null;
  /** Published networks and imported fused folders, by id (see {@link MethodRun}). */
  methods: Record<string, MethodRun>;
  /** Runs and methods shown in the comparison. */
  compareIds: string[];
  swipeA: string;
  swipeB: string;
  /** Runs shown instead of the left / right image of the viewer's swipe view ('' = none). */
  viewerRunA: string;
  viewerRunB: string;

  setLab(patch: Partial<Pick<LabSlice, 'open' | 'tab' | 'strategies' | 'compareIds' | 'swipeA' | 'swipeB' | 'runsLoaded' | 'damagedRuns' | 'viewerRunA' | 'viewerRunB' | 'adapting' | 'pretrainedAdapted'>>): void;
  setForm(patch: Partial<Omit<TrainForm, 'spec' | 'optionsBy'>>): void;
  /** Changes the spec's own settings (steps, batch, crop, seed, held-out share). */
  setSpec(patch: Partial<Omit<FinetuneSpec, 'strategy' | 'options'>>): void;
  setOption(key: string, value: OptionValue): void;
  /** Switches strategy, with that strategy's options as last edited (else its defaults). */
  chooseStrategy(name: StrategyName): void;
  /** The form set to a spec (a run's, to run it again with changes). */
  loadSpec(spec: FinetuneSpec): void;
  setTraining(patch: Partial<TrainingState>): void;
  addLosses(points: LossPoint[]): void;
  putRun(run: RunRecord): void;
  /** Forgets a run and its results. */
  removeRun(id: string): void;
  putMethod(m: MethodRun): void;
  /** Forgets a method (an imported folder) and its results. */
  removeMethod(id: string): void;
}

export const idleTraining: TrainingState = {
  status: 'idle', step: 0, total: 0, etaS: NaN, msPerStep: NaN, history: [], notes: [], labelSources: {}, previewVersion: 0, queued: 0,
};

/** Removing a run removes its results, hence the results slice in its view of the store. */
export const createLabSlice: StateCreator<LabSlice & ResultsSlice, [], [], LabSlice> = (set) => ({
  open: false,
  tab: 'train',
  strategies: [],
  form: { spec: null, optionsBy: {}, previewEvery: 5, pairIds: [], name: '', videoFrames: 8 },
  training: idleTraining,
  runs: {},
  runOrder: [],
  runsLoaded: false,
  damagedRuns: [],
  methods: {},
  adapting: null,
  pretrainedAdapted: null,
  compareIds: [],
  swipeA: PRETRAINED,
  swipeB: '',
  viewerRunA: '',
  viewerRunB: '',

  // The strategy list seeds the form the first time it arrives.
  setLab: (patch) => set((s) => (patch.strategies?.length && !s.form.spec
    ? { ...patch, form: { ...s.form, spec: patch.strategies[0].defaultSpec } } : patch)),
  setForm: (patch) => set((s) => ({ form: { ...s.form, ...patch } })),
  setSpec: (patch) => set((s) => (s.form.spec ? { form: { ...s.form, spec: { ...s.form.spec, ...patch } } } : {})),
  setOption: (key, value) => set((s) => {
    const spec = s.form.spec;
    if (!spec) return {};
    const options = { ...spec.options, [key]: value };
    return { form: { ...s.form, spec: { ...spec, options }, optionsBy: { ...s.form.optionsBy, [spec.strategy]: options } } };
  }),
  chooseStrategy: (name) => set((s) => {
    const spec = s.form.spec;
    const info = s.strategies.find((x) => x.name === name);
    if (!spec || !info) return {};
    return { form: { ...s.form, spec: { ...spec, strategy: name, options: s.form.optionsBy[name] ?? info.defaultSpec.options } } };
  }),
  loadSpec: (spec) => set((s) => ({ form: { ...s.form, spec, optionsBy: { ...s.form.optionsBy, [spec.strategy]: spec.options } } })),
  setTraining: (patch) => set((s) => ({ training: { ...s.training, ...patch } })),
  addLosses: (points) => set((s) => ({ training: { ...s.training, history: appendHistory(s.training.history, points) } })),
  putRun: (run) => set((s) => ({
    runs: { ...s.runs, [run.id]: run },
    runOrder: s.runOrder.includes(run.id) ? s.runOrder : [...s.runOrder, run.id],
  })),
  removeRun: (id) => set((s) => {
    const { [id]: _gone, ...runs } = s.runs;
    return { runs, runOrder: s.runOrder.filter((x) => x !== id), ...forget(s, id) };
  }),
  putMethod: (m) => set((s) => ({ methods: { ...s.methods, [m.id]: m } })),
  removeMethod: (id) => set((s) => {
    const { [id]: _gone, ...methods } = s.methods;
    return { methods, ...forget(s, id) };
  }),
});

/** A run or method gone: its results, and every place that shows it. */
function forget(s: LabSlice & ResultsSlice, id: string): Partial<LabSlice & ResultsSlice> {
  return {
    results: Object.fromEntries(Object.entries(s.results).filter(([, r]) => r.runId !== id)),
    compareIds: s.compareIds.filter((x) => x !== id),
    swipeA: s.swipeA === id ? PRETRAINED : s.swipeA,
    swipeB: s.swipeB === id ? '' : s.swipeB,
    viewerRunA: s.viewerRunA === id ? '' : s.viewerRunA,
    viewerRunB: s.viewerRunB === id ? '' : s.viewerRunB,
  };
}

/** Id of a run's results scored with S adapted to its images (`pretrained@S` for the pretrained F). */
export const adaptedId = (runId: string): string => `${runId}${ADAPTED_SUFFIX}`;
const ADAPTED_SUFFIX = '@S';
/** The run of an adapted id, or null for any other id. */
export function adaptedBase(id: string): string | null {
  return id.endsWith(ADAPTED_SUFFIX) ? id.slice(0, -ADAPTED_SUFFIX.length) : null;
}

type Entry = { id: string; name: string; strategy: string };
type EntrySource = Pick<LabSlice, 'runs' | 'methods' | 'pretrainedAdapted'>;

/**
 * What the comparison calls a run, a method, or a run scored with its adapted S, and its kind
 * (a strategy, `published` or `imported`), or undefined for an id that is none of them (gone).
 */
export function comparedEntry(s: EntrySource, id: string): Entry | undefined {
  const base = adaptedBase(id);
  if (base !== null) {
    const k = base === PRETRAINED ? s.pretrainedAdapted?.steps : s.runs[base]?.adaptedS?.steps;
    const of = base === PRETRAINED ? { name: 'pretrained F', strategy: '-' } : comparedEntry(s, base);
    return k && of ? { id, name: `${of.name} · S adapted (K ${k})`, strategy: `${of.strategy}, S adapted` } : undefined;
  }
  const r = s.runs[id];
  if (r) return { id, name: r.name, strategy: r.spec.strategy };
  const m = s.methods[id];
  if (m) return { id, name: m.name, strategy: m.kind === 'peer' ? 'published' : 'imported' };
  return undefined;
}

/**
 * The compared runs and methods that still exist, in the order chosen, each run followed by its
 * scoring with an adapted S when it has one (the pretrained F's comes first: its F is always shown).
 */
export function comparedEntries(s: EntrySource & Pick<LabSlice, 'compareIds'>): Entry[] {
  const withAdapted = (id: string) => [id, adaptedId(id)].flatMap((x) => comparedEntry(s, x) ?? []);
  return [...(s.pretrainedAdapted ? [comparedEntry(s, adaptedId(PRETRAINED))!] : []), ...s.compareIds.flatMap(withAdapted)];
}
