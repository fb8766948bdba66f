/**
 * Fine-tuning runs in IndexedDB (no dependency). Three object stores: run records (settings,
 * notes, the bounded loss history), their scores one per run and pair (so scoring a pair writes
 * one small entry, whatever the run's size), and their weights (ArrayBuffers, tfjs weights
 * format; the list loads without reading them). Every record read back is checked against the
 * run schema: one that fails (an older version's, or damaged) is listed as damaged, never used.
 */
import { boundHistory, HISTORY_MAX, parseRunRecord, RunFileError, type PairScores, type RunRecord } from '../core/runs/record';
import type { RunWeights } from '../protocol/messages';

const DB_NAME = 'fusion-playground';
/** 1: records held their scores; 2: scores in their own store, histories bounded. */
const DB_VERSION = 2;
const RUNS = 'runs';
const SCORES = 'scores';
const WEIGHTS = 'weights';

/** A run record as stored: its scores are kept apart. */
export type StoredRun = Omit<RunRecord, 'scores'>;

/** A stored record that does not pass the schema: shown as damaged, with the reason. */
export interface DamagedRun {
  id: string;
  name: string;
  why: string;
}

interface ScoreEntry {
  runId: string;
  pair: string;
  scores: PairScores;
}

let dbPromise: Promise<IDBDatabase> | null = null;
let onStale: (() => void) | null = null;

/**
 * Called when a newer version of the app, open in another tab, needs to upgrade the database:
 * this tab lets go of it (so the other is not blocked) and should be reloaded.
 */
export function onDatabaseStale(handler: () => void): void {
  onStale = handler;
}

function open(): Promise<IDBDatabase> {
  dbPromise ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = (e) => {
      const db = req.result;
      if (!db.objectStoreNames.contains(RUNS)) db.createObjectStore(RUNS, { keyPath: 'id' });
      if (!db.objectStoreNames.contains(WEIGHTS)) db.createObjectStore(WEIGHTS);
      if (!db.objectStoreNames.contains(SCORES)) db.createObjectStore(SCORES, { keyPath: ['runId', 'pair'] });
      if (e.oldVersion >= 1 && e.oldVersion < 2) migrateScoresOut(req.transaction!);
    };
    req.onsuccess = () => {
      const db = req.result;
      db.onversionchange = () => {
        db.close();
        dbPromise = null;
        onStale?.();
      };
      resolve(db);
    };
    req.onerror = () => reject(req.error ?? new Error('IndexedDB unavailable'));
  });
  return dbPromise;
}

/**
 * Version 1 kept each run's scores in its record, so scoring a pair rewrote the whole record
 * (loss history included). Moves them to their own store and bounds the history; leaves a
 * record it cannot read as it is (the list shows it as damaged).
 */
function migrateScoresOut(tx: IDBTransaction): void {
  const scores = tx.objectStore(SCORES);
  const cursor = tx.objectStore(RUNS).openCursor();
  cursor.onsuccess = () => {
    const c = cursor.result;
    if (!c) return;
    const r = c.value as Record<string, unknown>;
    if (r && typeof r === 'object' && typeof r.id === 'string') {
      const sc = r.scores;
      if (sc && typeof sc === 'object' && !Array.isArray(sc)) {
        for (const [pair, s] of Object.entries(sc)) scores.put({ runId: r.id, pair, scores: s });
      }
      delete r.scores;
      const h = r.history;
      if (Array.isArray(h) && h.length > HISTORY_MAX && h.every((p) => p && typeof p === 'object')) r.history = boundHistory(h);
      c.update(r);
    }
    c.continue();
  };
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

/** A run's score entries as its record's `scores` field. */
export function scoresByPair(entries: readonly ScoreEntry[]): Record<string, PairScores> {
  return Object.fromEntries(entries.map((e) => [e.pair, e.scores]));
}

/** All of one run's scores. */
function runScores(store: IDBObjectStore, id: string): IDBRequest<ScoreEntry[]> {
  // Keys [id, pair] with any pair name: arrays sort after every string.
  return store.getAll(IDBKeyRange.bound([id], [id, []])) as IDBRequest<ScoreEntry[]>;
}

/** A stored record and its scores, checked: the run, or why it is damaged. */
function check(raw: unknown, scores: ScoreEntry[]): RunRecord | DamagedRun {
  const rec = raw as Record<string, unknown>;
  try {
    return parseRunRecord({ ...rec, scores: scoresByPair(scores) });
  } catch (e) {
    if (!(e instanceof RunFileError)) throw e;
    const id = typeof rec?.id === 'string' ? rec.id : String(rec?.id);
    const name = typeof rec?.name === 'string' ? rec.name.slice(0, 200) : id;
    return { id, name, why: e.message };
  }
}

function isDamaged(r: RunRecord | DamagedRun): r is DamagedRun {
  return 'why' in r;
}

/** Every stored run, oldest first, and the records that fail the schema. */
export async function listRuns(): Promise<{ runs: RunRecord[]; damaged: DamagedRun[] }> {
  const db = await open();
  const tx = db.transaction([RUNS, SCORES]);
  const [records, scores] = await Promise.all([
    request(tx.objectStore(RUNS).getAll()), request(tx.objectStore(SCORES).getAll() as IDBRequest<ScoreEntry[]>),
  ]);
  const byRun = new Map<string, ScoreEntry[]>();
  for (const e of scores) byRun.set(e.runId, [...(byRun.get(e.runId) ?? []), e]);
  const checked = records.map((r: unknown) => check(r, byRun.get((r as { id?: string })?.id ?? '') ?? []));
  return {
    runs: checked.filter((r): r is RunRecord => !isDamaged(r)).sort((a, b) => a.createdAt - b.createdAt),
    damaged: checked.filter(isDamaged),
  };
}

/** Stores a run with its weights and scores (one transaction). */
export async function putRun(run: RunRecord, weights: RunWeights): Promise<void> {
  const db = await open();
  const tx = db.transaction([RUNS, SCORES, WEIGHTS], 'readwrite');
  const finished = done(tx);
  try {
    const { scores, ...record } = run;
    tx.objectStore(RUNS).put(record);
    for (const [pair, s] of Object.entries(scores)) tx.objectStore(SCORES).put({ runId: run.id, pair, scores: s } satisfies ScoreEntry);
    tx.objectStore(WEIGHTS).put(weights, run.id);
  } catch (e) {
    // All or nothing: a record without its weights would come back broken after a reload.
    tx.abort();
    finished.catch(() => undefined);
    throw e;
  }
  await finished;
}

/** Keeps a run's scores on a pair: one small write, and none when the run is not stored. */
export async function putScores(runId: string, pair: string, scores: PairScores): Promise<boolean> {
  const db = await open();
  const tx = db.transaction([RUNS, SCORES], 'readwrite');
  const finished = done(tx);
  const stored = (await request(tx.objectStore(RUNS).count(runId))) > 0;
  if (stored) tx.objectStore(SCORES).put({ runId, pair, scores } satisfies ScoreEntry);
  await finished;
  return stored;
}

/** Bytes this origin stores and may store (the browser's estimate), when it says. */
export async function storageEstimate(): Promise<{ usage: number; quota: number } | null> {
  const e = await navigator.storage?.estimate?.().catch(() => undefined);
  return e?.usage !== undefined && e.quota !== undefined ? { usage: e.usage, quota: e.quota } : null;
}

/** A stored run (checked), why it is damaged, or undefined when there is none. */
export async function getRun(id: string): Promise<RunRecord | DamagedRun | undefined> {
  const db = await open();
  const tx = db.transaction([RUNS, SCORES]);
  const [raw, scores] = await Promise.all([request(tx.objectStore(RUNS).get(id)), request(runScores(tx.objectStore(SCORES), id))]);
  return raw === undefined ? undefined : check(raw, scores);
}

/** A stored record as it is, with its scores and weights, unchecked (to export a damaged run). */
export async function getRaw(id: string): Promise<{ record: unknown; scores: ScoreEntry[]; weights: RunWeights | undefined }> {
  const db = await open();
  const tx = db.transaction([RUNS, SCORES, WEIGHTS]);
  const [record, scores, weights] = await Promise.all([
    request(tx.objectStore(RUNS).get(id)), request(runScores(tx.objectStore(SCORES), id)),
    request(tx.objectStore(WEIGHTS).get(id) as IDBRequest<RunWeights | undefined>),
  ]);
  return { record, scores, weights };
}

/**
 * Changes a stored run record (rename) by reading and writing it in one transaction, so that
 * another tab's change to another field in between is kept, not overwritten; scores and weights
 * untouched. @returns whether the run is stored.
 */
export async function updateRun(id: string, change: (stored: StoredRun) => StoredRun): Promise<boolean> {
  const db = await open();
  const tx = db.transaction(RUNS, 'readwrite');
  const finished = done(tx);
  const runs = tx.objectStore(RUNS);
  const stored = await request(runs.get(id) as IDBRequest<StoredRun | undefined>);
  if (stored) runs.put(change(stored));
  await finished;
  return stored !== undefined;
}

/** A run's weights, or undefined when gone. */
export async function getWeights(id: string): Promise<RunWeights | undefined> {
  const db = await open();
  return request(db.transaction(WEIGHTS).objectStore(WEIGHTS).get(id) as IDBRequest<RunWeights | undefined>);
}

/** Deletes a run, its scores and its weights. */
export async function deleteRun(id: string): Promise<void> {
  const db = await open();
  const tx = db.transaction([RUNS, SCORES, WEIGHTS], 'readwrite');
  tx.objectStore(RUNS).delete(id);
  tx.objectStore(SCORES).delete(IDBKeyRange.bound([id], [id, []]));
  tx.objectStore(WEIGHTS).delete(id);
  await done(tx);
}
