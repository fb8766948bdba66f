/**
 * A fine-tuning run as the app keeps and shares it, and the one schema every copy of a run is
 * checked against before the page uses it: a run file being imported, a record read back from
 * IndexedDB (which an older version or another tab may have written), a message from another
 * tab. A run file is meant to be shared, so every field is bounded: a name, the notes, the pair
 * lists and the loss history (kept at full resolution up to {@link HISTORY_MAX} points, then
 * thinned by {@link boundHistory}, which keeps each stretch's lowest and highest loss).
 */
import * as v from 'valibot';
import { FUSION_METRIC_NAMES, type FusionMetrics } from '../types';
import { SPEC_DEFAULTS, STRATEGY_NAMES, type FinetuneSpec } from '../strategies/types';

/** Longest run name kept (a longer one is cut, ending in "…"). */
export const RUN_NAME_MAX = 200;
/** Most notes kept, and the longest note. */
export const NOTES_MAX = 200;
export const NOTE_MAX = 2000;
/** Most loss-history points kept at full resolution. */
export const HISTORY_MAX = 4000;
/** Most pairs a run names (trained on, label sources, scores), and the longest pair name. */
export const PAIRS_MAX = 20_000;
export const PAIR_NAME_MAX = 500;
/** Most strategy options, and the longest option value that is a string. */
const OPTIONS_MAX = 100;
const SHORT_MAX = 100;

/** The models a run may hold weights of (F always; D, S, G when its strategy moved them). */
export const RUN_MODELS = ['fusion', 'discriminator', 'segdet', 'lossGenerator', 'segdetAdapted'] as const;
export type RunModel = (typeof RUN_MODELS)[number];

/**
 * The network a run's weights are checked against: `segdetAdapted` is the pretrained S with its
 * heads adapted to the run's fused images (task-adapted scoring), an S like any other.
 */
export function networkOf(m: RunModel): Exclude<RunModel, 'segdetAdapted'> {
  return m === 'segdetAdapted' ? 'segdet' : m;
}

/** How a run's S was adapted to its fused images (its weights are the run's `segdetAdapted`). */
export interface AdaptedS {
  /** K: steps of S's heads. */
  steps: number;
  /** The labelled pairs it adapted on. */
  pairNames: string[];
  seconds: number;
  createdAt: number;
}

/** One fine-tuning step's losses. */
export interface LossPoint {
  step: number;
  /** NaN for a step that was rolled back. */
  total: number;
  terms: Record<string, number>;
  /** E.g. bdl's task weights `w.visual`, `w.task` and coefficients `c.*`; td's ε. */
  stats?: Record<string, number>;
}

export type LabelSource = 'label' | 'pseudo' | 'none';

/** A run's scores on one pair. */
export interface PairScores {
  metrics: FusionMetrics;
  /** Why each undefined metric is undefined (e.g. SCD: "constant infrared image"). */
  undefinedMetrics?: Partial<Record<keyof FusionMetrics, string>>;
  miou?: number;
  map50?: number;
}

/** A fine-tune kept by the app: its settings, what came of it, and its scores. */
export interface RunRecord {
  id: string;
  name: string;
  /** The fine-tune as it ran, every default filled in. */
  spec: FinetuneSpec;
  /** Steps taken (fewer than `spec.steps` when stopped). */
  steps: number;
  history: LossPoint[];
  notes: string[];
  labelSources: Record<string, LabelSource>;
  /** Pair names trained on. */
  pairNames: string[];
  /** Models whose weights the run holds. */
  models: string[];
  createdAt: number;
  seconds: number;
  backend: string;
  stopped: boolean;
  origin: 'trained' | 'imported';
  /** Runs of one sweep share it (the trade-off plot draws them as one line). */
  group?: string;
  /** Kept in memory only: the browser refused to store it (e.g. storage full). */
  unsaved?: true;
  /** Scores by pair name. */
  scores: Record<string, PairScores>;
  /** Set when S was adapted to this run's fused images (see {@link AdaptedS}). */
  adaptedS?: AdaptedS;
}

/** Why a run (a record or a run file) cannot be used: one sentence that names the field. */
export class RunFileError extends Error {
  override name = 'RunFileError';
}

/** JSON has no NaN: a number written as `null` (an undefined metric, a rolled-back step) reads back as NaN. */
const numberOrNull = v.pipe(v.union([v.number(), v.null()], 'expected a number'), v.transform((x) => x ?? NaN));
const finite = v.pipe(v.number('expected a number'), v.finite('expected a finite number'));
const count = v.pipe(finite, v.integer('expected a whole number'), v.minValue(0, 'expected a number ≥ 0'));
const short = v.pipe(v.string('expected text'), v.maxLength(SHORT_MAX, `expected at most ${SHORT_MAX} characters`));
const pairName = v.pipe(v.string('expected text'), v.maxLength(PAIR_NAME_MAX, `expected a pair name of at most ${PAIR_NAME_MAX} characters`));
const numbers = v.pipe(v.record(short, numberOrNull, 'expected an object of numbers'), maxEntries(OPTIONS_MAX));

function maxEntries<T extends Record<string, unknown>>(n: number) {
  return v.maxEntries<T, number, string>(n, `expected at most ${n.toLocaleString('en')} entries`);
}

const lossPoint = v.object({
  step: count,
  total: numberOrNull,
  terms: numbers,
  stats: v.optional(numbers),
}, 'expected a loss point { step, total, terms }');

const metrics = v.object(
  Object.fromEntries(FUSION_METRIC_NAMES.map((k) => [k, numberOrNull])) as Record<keyof FusionMetrics, typeof numberOrNull>,
  'expected the nine fusion metrics',
);

const pairScores = v.object({
  metrics,
  undefinedMetrics: v.optional(v.pipe(v.record(short, v.pipe(v.string(), v.maxLength(NOTE_MAX))), maxEntries(FUSION_METRIC_NAMES.length))),
  miou: v.optional(numberOrNull),
  map50: v.optional(numberOrNull),
}, 'expected scores { metrics, miou?, map50? }');

const runName = v.pipe(
  v.string('expected text'),
  v.transform((s) => (s.length > RUN_NAME_MAX ? `${s.slice(0, RUN_NAME_MAX - 1)}…` : s)),
);

const specSchema = v.object({
  strategy: v.picklist(STRATEGY_NAMES, `expected ${STRATEGY_NAMES.join(', ')}`),
  options: v.pipe(v.record(short, v.union([v.number(), short, v.boolean()], 'expected a number, a short text or true/false'), 'expected an object'), maxEntries(OPTIONS_MAX)),
  steps: count,
  batch: count,
  crop: count,
  seed: count,
  heldOutFraction: v.pipe(finite, v.minValue(0, 'expected a share in [0, 1)'), v.maxValue(0.99, 'expected a share in [0, 1)')),
}, 'expected a fine-tune spec { strategy, options, steps, batch, crop, seed, heldOutFraction }');

/**
 * Runs kept before the spec held the settings listed them flat, with F's learning rate beside
 * the options and the schedule's length among them: read as a spec.
 */
function fromFlatSettings(x: unknown): unknown {
  if (!x || typeof x !== 'object' || 'spec' in x || !('strategy' in x)) return x;
  const { strategy, options, steps, batch, crop, lr, seed, ...rest } = x as Record<string, unknown>;
  const { totalSteps: _schedule, ...kept } = (options && typeof options === 'object' ? options : {}) as Record<string, unknown>;
  return {
    ...rest, steps,
    spec: { strategy, options: lr === undefined ? kept : { ...kept, lr }, steps: Math.max(1, Number(steps) || 1), batch, crop, seed, heldOutFraction: SPEC_DEFAULTS.heldOutFraction },
  };
}

/** The schema of a run record, with the bounds applied (a long name cut, a long history thinned). */
export const runRecordSchema = v.pipe(v.unknown(), v.transform(fromFlatSettings), v.object({
  id: v.pipe(short, v.minLength(1, 'expected an id')),
  name: runName,
  spec: specSchema,
  steps: count,
  history: v.pipe(v.array(lossPoint, 'expected a list of loss points'), v.transform((h) => boundHistory(h))),
  notes: v.pipe(v.array(v.string('expected text'), 'expected a list of notes'), v.transform((n: string[]) => boundNotes(n))),
  labelSources: v.pipe(v.record(pairName, v.picklist(['label', 'pseudo', 'none'] as const, 'expected label, pseudo or none'), 'expected an object'), maxEntries(PAIRS_MAX)),
  pairNames: v.pipe(v.array(pairName, 'expected a list of pair names'), v.maxLength(PAIRS_MAX, `expected at most ${PAIRS_MAX} pairs`)),
  models: v.pipe(v.array(short, 'expected a list of model names'), v.maxLength(8, 'expected at most 8 models')),
  createdAt: finite,
  seconds: v.pipe(finite, v.minValue(0, 'expected a number ≥ 0')),
  backend: short,
  stopped: v.boolean('expected true or false'),
  origin: v.picklist(['trained', 'imported'] as const, 'expected trained or imported'),
  group: v.optional(short),
  unsaved: v.optional(v.literal(true)),
  scores: v.optional(v.pipe(v.record(pairName, pairScores, 'expected an object of scores by pair'), maxEntries(PAIRS_MAX)), {}),
  adaptedS: v.optional(v.object({
    steps: count,
    pairNames: v.pipe(v.array(pairName, 'expected a list of pair names'), v.maxLength(PAIRS_MAX, `expected at most ${PAIRS_MAX} pairs`)),
    seconds: v.pipe(finite, v.minValue(0, 'expected a number ≥ 0')),
    createdAt: finite,
  }, 'expected { steps, pairNames, seconds, createdAt }')),
}, 'expected a run record (an object)'));

// The schema's output is the record type, field for field.
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _schemaIsRecord: Exact<v.InferOutput<typeof runRecordSchema>, RunRecord> = true;
void _schemaIsRecord;

/** Where and what: "history[3].total: expected a number". */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[], prefix = ''): string {
  const first = issues[0];
  const path = v.getDotPath(first) ?? '';
  const field = [prefix, path].filter(Boolean).join('.');
  // A key that is not there is reported against its object: say so plainly.
  if (first.kind === 'schema' && first.type === 'object' && first.received === 'undefined' && path) return `${field}: missing`;
  const got = first.received ? ` (got ${first.received.length > 60 ? `${first.received.slice(0, 60)}…` : first.received})` : '';
  return `${field ? `${field}: ` : ''}${first.message}${got}`;
}

/** A run record checked against the schema and bounded. @throws RunFileError naming the first field that is wrong. */
export function parseRunRecord(x: unknown, where = 'run'): RunRecord {
  const r = v.safeParse(runRecordSchema, x);
  if (!r.success) throw new RunFileError(describeIssues(r.issues, where));
  return r.output;
}

/**
 * At most `max` points of a loss history, in step order: the history itself when it is short
 * enough, else the point of lowest and of highest total loss of each of `max / 2` stretches, so a
 * curve keeps its shape (its spikes and dips) at any length. The first and last points stay.
 */
export function boundHistory(points: readonly LossPoint[], max = HISTORY_MAX): LossPoint[] {
  const n = points.length;
  if (n <= max) return points as LossPoint[];
  const buckets = Math.max(1, Math.floor((max - 2) / 2));
  const out: LossPoint[] = [points[0]];
  const key = (p: LossPoint) => (Number.isNaN(p.total) ? -Infinity : p.total);
  for (let b = 0; b < buckets; b++) {
    const lo = 1 + Math.floor((b * (n - 2)) / buckets), hi = 1 + Math.floor(((b + 1) * (n - 2)) / buckets);
    if (hi <= lo) continue;
    let iMin = lo, iMax = lo;
    for (let i = lo + 1; i < hi; i++) {
      if (key(points[i]) < key(points[iMin])) iMin = i;
      if (key(points[i]) > key(points[iMax])) iMax = i;
    }
    out.push(points[Math.min(iMin, iMax)]);
    if (iMin !== iMax) out.push(points[Math.max(iMin, iMax)]);
  }
  out.push(points[n - 1]);
  return out;
}

/**
 * A history with new points added, kept within {@link HISTORY_MAX}: past it, thinned to half,
 * so the newest points stay at full resolution and adding one costs the same at any length.
 */
export function appendHistory(history: readonly LossPoint[], points: readonly LossPoint[], max = HISTORY_MAX): LossPoint[] {
  const all = history.concat(points);
  return all.length > max ? boundHistory(all, Math.floor(max / 2)) : all;
}

/** A list of notes kept within {@link NOTES_MAX}: the first ones, and a last that counts the rest. */
export function boundNotes(notes: readonly string[]): string[] {
  const cut = notes.map((n) => (n.length > NOTE_MAX ? `${n.slice(0, NOTE_MAX - 1)}…` : n));
  return cut.length <= NOTES_MAX ? cut : [...cut.slice(0, NOTES_MAX - 1), `… and ${cut.length - NOTES_MAX + 1} more notes.`];
}
