/**
 * Runs kept: loading them from IndexedDB at start, saving, renaming, deleting, duplicating
 * into the training form, their weights (memory, then IndexedDB), their scores per pair and
 * TDFusion's weight maps. Components and the training / run I/O modules call these.
 */
import { getWorker } from '../client';
import type { RunWeights } from '../protocol/messages';
import { runWeights, weightMaps } from './cache';
import { RUN_NAME_MAX } from '../core/runs/record';
import { saveBlob } from './render';
import { encodeRunFile, RUN_FILE_EXTENSION } from './run-file';
import * as db from './runs-db';
import * as tabs from './tab-sync';
import type { RunRecord } from './store/lab';
import { resultKey, type PairScores } from './store/results';
import { useStore } from './store/store';

export { RUN_NAME_MAX };

let labStarted = false;

/** Loads the strategy list and the stored runs (once). */
export function startLab(): void {
  if (labStarted) return;
  labStarted = true;
  getWorker().strategies().then((list) => useStore.getState().setLab({ strategies: list }),
    (e: Error) => useStore.getState().addLog('error', `Strategies: ${e.message}`));
  db.listRuns().then(({ runs, damaged }) => {
    const s = useStore.getState();
    for (const r of runs) s.putRun(r);
    s.setLab({ runsLoaded: true, compareIds: runs.slice(-4).map((r) => r.id), damagedRuns: damaged });
    for (const d of damaged) s.addLog('warn', `Stored run "${d.name}" is damaged and is not shown: ${d.why}. Remove it or export it as is (Runs & compare).`);
  }, (e: Error) => {
    useStore.getState().setLab({ runsLoaded: true });
    useStore.getState().addLog('error', `Stored runs could not be read: ${e.message}`);
  });
  tabs.listen(onOtherTab);
  db.onDatabaseStale(() => useStore.getState().addLog('error',
    'A newer version of the app was opened in another tab: runs made here can no longer be stored. Reload this tab.'));
}

/** Another tab stored or deleted a run: this tab follows. */
function onOtherTab(m: tabs.RunsMessage): void {
  if (m.kind === 'deleted') {
    forgetRun(m.id);
    return;
  }
  db.getRun(m.id).then((r) => {
    if (!r) return;
    const s = useStore.getState();
    if ('why' in r) {
      s.setLab({ damagedRuns: [...s.damagedRuns.filter((d) => d.id !== r.id), r] });
      return;
    }
    s.putRun(r);
    if (!s.runs[r.id]) s.addLog('info', `Run "${r.name}" was made in another tab.`);
  }, () => undefined);
}

function forgetRun(id: string): void {
  const s = useStore.getState();
  s.removeRun(id);
  if (s.damagedRuns.some((d) => d.id === id)) s.setLab({ damagedRuns: s.damagedRuns.filter((d) => d.id !== id) });
  runWeights.delete(id);
}

export function newRunId(): string {
  return `run-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

/** Keeps a run: in the store and memory at once, in IndexedDB when it can (else for this session). */
export async function saveRun(run: RunRecord, weights: RunWeights): Promise<void> {
  runWeights.set(run.id, weights);
  useStore.getState().putRun(run);
  try {
    await db.putRun(run, weights);
    tabs.announce({ kind: 'stored', id: run.id });
  } catch (e) {
    const full = (e as Error).name === 'QuotaExceededError';
    useStore.getState().putRun({ ...run, unsaved: true });
    useStore.getState().addLog('warn', `Run "${run.name}" is kept for this session only${full ? ': the browser\'s storage is full' : ''} (${(e as Error).message}). `
      + 'Export it (Runs & compare → Export run) to keep it; deleting older runs frees space.');
  }
}

/**
 * Changes a run record: here at once, then in IndexedDB (unless the run lives in memory only: a
 * record without weights would be broken). There the change applies to the stored record, which
 * may hold another tab's changes, and the other tabs are told to read it again.
 */
async function changeRun(id: string, change: <R extends db.StoredRun>(r: R) => R): Promise<void> {
  const r = useStore.getState().runs[id];
  if (!r) return;
  useStore.getState().putRun(change(r));
  if (r.unsaved) return;
  if (await db.updateRun(id, change)) tabs.announce({ kind: 'stored', id });
}

export async function renameRun(id: string, name: string): Promise<void> {
  const trimmed = name.trim().slice(0, RUN_NAME_MAX);
  if (!trimmed) return;
  await changeRun(id, (r) => ({ ...r, name: trimmed }));
}

export async function deleteRun(id: string): Promise<void> {
  forgetRun(id);
  await db.deleteRun(id);
  tabs.announce({ kind: 'deleted', id });
}

/**
 * Remembers a run's scores on a pair with the run (shown again after a reload): one small
 * entry in IndexedDB, whatever the size of the run's record.
 */
export function recordRunScores(runId: string, pairName: string, scores: PairScores): void {
  const r = useStore.getState().runs[runId];
  if (!r) return;
  useStore.getState().putRun({ ...r, scores: { ...r.scores, [pairName]: scores } });
  if (r.unsaved) return;
  void db.putScores(runId, pairName, scores).then((stored) => { if (stored) tabs.announce({ kind: 'stored', id: runId }); }, () => undefined);
}

/** Downloads a damaged run as it is stored: a run file when it has F's weights, else its record as JSON. */
export async function exportDamagedRun(id: string): Promise<void> {
  const { record, scores, weights } = await db.getRaw(id);
  const raw = { ...(record as object), scores: db.scoresByPair(scores) } as RunRecord;
  const base = `damaged-${id.replace(/[^\w.-]+/g, '_')}`;
  if (weights?.fusion) saveBlob(new Blob([encodeRunFile(raw, weights)], { type: 'application/octet-stream' }), `${base}${RUN_FILE_EXTENSION}`);
  else saveBlob(new Blob([JSON.stringify(raw, null, 1)], { type: 'application/json' }), `${base}.json`);
}

/** Prefills the training form with a run's settings (change the weights, then start). */
export function duplicateRun(id: string): void {
  const s = useStore.getState();
  const r = s.runs[id];
  if (!r) return;
  // A run from an older version may carry options the strategy no longer has: keep the rest.
  const known = s.strategies.find((x) => x.name === r.spec.strategy)?.defaultOptions;
  const options = known ? Object.fromEntries(Object.entries(r.spec.options).filter(([k]) => k in known)) : r.spec.options;
  s.loadSpec({ ...r.spec, options });
  s.setForm({ name: `${r.name} (copy)` });
  s.setLab({ tab: 'train', open: true });
}

/** A run's weights, from memory or IndexedDB. */
export async function weightsOf(id: string): Promise<RunWeights | undefined> {
  let w = runWeights.get(id);
  if (!w) {
    w = await db.getWeights(id);
    if (w) runWeights.set(id, w);
  }
  return w;
}

/** TDFusion's learned IR weight map of a `td` run on a pair (needs the run's result on that pair first). */
export async function loadWeightMap(runId: string, pairId: string): Promise<void> {
  const w = await weightsOf(runId);
  if (!w?.lossGenerator) throw new Error('this run has no loss-generator weights');
  const key = resultKey(runId, pairId);
  const m = await getWorker().weightMap(key, w.lossGenerator);
  weightMaps.set(key, m);
}
