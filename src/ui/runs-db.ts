/**
 * Fine-tuning runs in IndexedDB (no dependency): run records (plain data, also mirrored in the
 * lab store) in one object store, their weights (ArrayBuffers, tfjs weights format) in another,
 * so the list loads without reading weights.
 */
import type { RunWeights } from '../protocol/messages';
import type { RunRecord } from './store/lab';

const DB_NAME = 'fusion-playground';
const DB_VERSION = 1;
const RUNS = 'runs';
const WEIGHTS = 'weights';

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
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(RUNS)) db.createObjectStore(RUNS, { keyPath: 'id' });
      if (!db.objectStoreNames.contains(WEIGHTS)) db.createObjectStore(WEIGHTS);
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

/** Every stored run record, oldest first. */
export async function listRuns(): Promise<RunRecord[]> {
  const db = await open();
  const all = await request(db.transaction(RUNS).objectStore(RUNS).getAll() as IDBRequest<RunRecord[]>);
  return all.sort((a, b) => a.createdAt - b.createdAt);
}

/** Stores a run with its weights (one transaction). */
export async function putRun(run: RunRecord, weights: RunWeights): Promise<void> {
  const db = await open();
  const tx = db.transaction([RUNS, WEIGHTS], 'readwrite');
  const finished = done(tx);
  try {
    tx.objectStore(RUNS).put(run);
    tx.objectStore(WEIGHTS).put(weights, run.id);
  } catch (e) {
    // All or nothing: a record without its weights would come back broken after a reload.
    tx.abort();
    finished.catch(() => undefined);
    throw e;
  }
  await finished;
}

/** Bytes this origin stores and may store (the browser's estimate), when it says. */
export async function storageEstimate(): Promise<{ usage: number; quota: number } | null> {
  const e = await navigator.storage?.estimate?.().catch(() => undefined);
  return e?.usage !== undefined && e.quota !== undefined ? { usage: e.usage, quota: e.quota } : null;
}

/** A stored run record, or undefined when there is none. */
export async function getRun(id: string): Promise<RunRecord | undefined> {
  const db = await open();
  return request(db.transaction(RUNS).objectStore(RUNS).get(id) as IDBRequest<RunRecord | undefined>);
}

/**
 * Changes a stored run record (rename, scores) by reading and writing it in one transaction, so
 * that another tab's change to another field in between is kept, not overwritten; weights
 * untouched. @returns the record as stored, or undefined when the run is not stored.
 */
export async function updateRun(id: string, change: (stored: RunRecord) => RunRecord): Promise<RunRecord | undefined> {
  const db = await open();
  const tx = db.transaction(RUNS, 'readwrite');
  const finished = done(tx);
  const runs = tx.objectStore(RUNS);
  const stored = await request(runs.get(id) as IDBRequest<RunRecord | undefined>);
  const next = stored && change(stored);
  if (next) runs.put(next);
  await finished;
  return next;
}

/** A run's weights, or undefined when gone. */
export async function getWeights(id: string): Promise<RunWeights | undefined> {
  const db = await open();
  return request(db.transaction(WEIGHTS).objectStore(WEIGHTS).get(id) as IDBRequest<RunWeights | undefined>);
}

/** Deletes a run and its weights. */
export async function deleteRun(id: string): Promise<void> {
  const db = await open();
  const tx = db.transaction([RUNS, WEIGHTS], 'readwrite');
  tx.objectStore(RUNS).delete(id);
  tx.objectStore(WEIGHTS).delete(id);
  await done(tx);
}
