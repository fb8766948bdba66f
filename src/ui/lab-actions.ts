/**
 * What the fine-tuning UI does with the engine: start / pause / resume / stop / discard a
 * fine-tune, keep its result as a run (IndexedDB), rename / delete / duplicate runs, fuse runs
 * on a pair for the comparison, TDFusion weight maps, a sweep of `fixed` weightings, and
 * export / import of weights and metrics. Components call these.
 */
import { getEngine, type TrainHandle } from '../client';
import type { ModelWeights, RunWeights, TrainConfig, TrainPairSource } from '../protocol/messages';
import { getInputs } from './cache';
import { saveBlob } from './render';
import {
  dropRun, getRunWeights, setPreview, setRunImages, setRunWeights, setWeightMap,
} from './run-cache';
import * as db from './runs-db';
import { PRETRAINED, idleTraining, resultKey, useLab, type PairScores, type RunRecord } from './store/lab';
import { useStore, type PairState } from './store/store';

let labStarted = false;
let current: { handle: TrainHandle; ctrl: AbortController } | null = null;
let sweepAbort = false;

/** Loads the strategy list and the stored runs (once). */
export function startLab(): void {
  if (labStarted) return;
  labStarted = true;
  const lab = useLab.getState();
  getEngine().strategies().then((list) => useLab.getState().set({ strategies: list }),
    (e: Error) => useStore.getState().addLog('error', `Strategies: ${e.message}`));
  db.listRuns().then((runs) => {
    for (const r of runs) lab.putRun(r);
    useLab.getState().set({ runsLoaded: true, compareIds: runs.slice(-4).map((r) => r.id) });
  }, (e: Error) => {
    useLab.getState().set({ runsLoaded: true });
    useStore.getState().addLog('error', `Stored runs could not be read: ${(e as Error).message}`);
  });
  (globalThis as { __fusionLab?: unknown }).__fusionLab = { lab: useLab };
}

function boxesOf(p: PairState): TrainPairSource['boxes'] {
  return p.gt?.map((b) => [b[0], b[1], b[2], b[3], b[4]] as [number, number, number, number, number]);
}

function sourceOf(p: PairState, previewOnly = false): TrainPairSource | null {
  const inp = getInputs(p.id);
  if (!inp) return null;
  return {
    pairId: p.id, name: p.name, ir: inp.ir, vi: inp.vi, ...(inp.label ? { label: inp.label } : {}),
    ...(p.gt ? { boxes: boxesOf(p) } : {}), ...(previewOnly ? { previewOnly } : {}),
  };
}

function newId(): string {
  return `run-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

function defaultName(strategy: string, options: Record<string, unknown>): string {
  const n = Object.keys(useLab.getState().runs).length + 1;
  if (strategy === 'fixed') return `#${n} fixed int ${String(options.intensity ?? 1)} : grad ${String(options.gradient ?? 10)}`;
  return `#${n} ${strategy}`;
}

/** Options of the form's strategy: defaults with the user's edits. */
export function formOptions(): Record<string, number | string | boolean> {
  const { form, strategies } = useLab.getState();
  const info = strategies.find((s) => s.name === form.strategy);
  return { ...(info?.defaultOptions ?? {}), ...form.options[form.strategy] };
}

/**
 * Runs one fine-tune with the form's settings (plus `override` options) and keeps the result
 * as a run. Resolves with the run id, or null when discarded or failed.
 */
export async function startTraining(override: Record<string, number | string | boolean> = {}, name?: string): Promise<string | null> {
  const lab = useLab.getState();
  const st = useStore.getState();
  if (current) return null;
  const { form } = lab;
  const options = { ...form.options[form.strategy], ...override };
  delete (options as Record<string, unknown>).lr;
  delete (options as Record<string, unknown>).totalSteps;
  const config: TrainConfig = {
    strategy: form.strategy, options, steps: form.steps, batch: form.batch, crop: form.crop, lr: form.lr,
    seed: form.seed, previewEvery: form.previewEvery,
  };
  const ids = form.pairIds.length ? form.pairIds.filter((id) => st.pairs[id]) : st.order;
  const sources = ids.map((id) => sourceOf(st.pairs[id])).filter((s): s is TrainPairSource => s !== null);
  const previewId = st.selectedId ?? ids[0];
  if (previewId && !ids.includes(previewId) && st.pairs[previewId]) {
    const s = sourceOf(st.pairs[previewId], true);
    if (s) sources.push(s);
  }
  if (!sources.some((s) => !s.previewOnly)) {
    lab.setTraining({ ...idleTraining, error: 'No pairs to train on.' });
    return null;
  }
  const runName = name ?? (form.name.trim() || defaultName(form.strategy, { ...formOptions(), ...override }));
  lab.setTraining({ ...idleTraining, error: undefined, lastRunId: undefined, status: 'preparing', total: form.steps, previewPairId: previewId, queued: lab.training.queued });
  const ctrl = new AbortController();
  const handle = getEngine().train(config, sources, previewId ?? '', {
    signal: ctrl.signal,
    onTrainProgress: (p) => {
      const l = useLab.getState();
      if (p.losses.length) l.addLosses(p.losses);
      const status = l.training.status === 'stopping' ? 'stopping' : p.state;
      l.setTraining({
        status, step: p.step, total: p.total, etaS: p.etaS,
        ...(p.note ? { notes: [...l.training.notes, p.note] } : {}),
        ...(p.labelSources ? { labelSources: p.labelSources } : {}),
      });
    },
    onPreview: (p) => {
      setPreview(p.fused);
      const l = useLab.getState();
      l.setTraining({ previewVersion: l.training.previewVersion + 1, previewPairId: p.pairId });
    },
  });
  current = { handle, ctrl };
  try {
    const r = await handle.result;
    useLab.getState().setTraining({ status: 'saving' });
    const run: RunRecord = {
      id: newId(), name: runName, strategy: config.strategy, options: r.options, seed: config.seed, steps: r.steps,
      batch: config.batch, crop: config.crop, lr: config.lr, history: r.history, notes: r.notes,
      labelSources: r.labelSources, pairNames: sources.filter((s) => !s.previewOnly).map((s) => s.name),
      models: Object.keys(r.weights), createdAt: Date.now(), seconds: r.seconds, backend: r.backend, stopped: r.stopped,
      origin: 'trained', scores: {},
    };
    await saveRun(run, r.weights);
    const l = useLab.getState();
    l.setTraining({ status: 'idle', notes: r.notes, lastRunId: run.id });
    l.set({ compareIds: [...l.compareIds.filter((x) => x !== run.id), run.id], swipeB: run.id });
    useStore.getState().addLog('info', `Fine-tune "${run.name}" done: ${r.steps} steps in ${r.seconds.toFixed(1)} s.`);
    return run.id;
  } catch (e) {
    const aborted = e instanceof DOMException && e.name === 'AbortError';
    useLab.getState().setTraining({ status: 'idle', ...(aborted ? {} : { error: (e as Error).message }) });
    if (!aborted) useStore.getState().addLog('error', `Fine-tune failed: ${(e as Error).message}`);
    return null;
  } finally {
    current = null;
  }
}

async function saveRun(run: RunRecord, weights: RunWeights): Promise<void> {
  setRunWeights(run.id, weights);
  useLab.getState().putRun(run);
  try {
    await db.putRun(run, weights);
  } catch (e) {
    useStore.getState().addLog('warn', `Run "${run.name}" kept for this session only: ${(e as Error).message}`);
  }
}

export function pauseTraining(): void {
  current?.handle.control('pause');
}
export function resumeTraining(): void {
  current?.handle.control('resume');
}
/** Ends the fine-tune early; its result so far becomes a run. */
export function stopTraining(): void {
  if (!current) return;
  sweepAbort = true;
  useLab.getState().setTraining({ status: 'stopping', queued: 0 });
  current.handle.control('stop');
}
/** Abandons the fine-tune: nothing is kept. */
export function discardTraining(): void {
  sweepAbort = true;
  useLab.getState().setTraining({ queued: 0 });
  current?.ctrl.abort();
}

/** Queues one `fixed` run per intensity:gradient ratio, one after another. */
export async function runSweep(ratios: [number, number][]): Promise<void> {
  if (current) return;
  sweepAbort = false;
  const lab = useLab.getState();
  lab.setForm({ strategy: 'fixed' });
  for (let i = 0; i < ratios.length; i++) {
    if (sweepAbort) break;
    const [a, b] = ratios[i];
    useLab.getState().setTraining({ queued: ratios.length - i - 1 });
    await startTraining({ intensity: a, gradient: b }, `sweep int ${a} : grad ${b}`);
  }
  useLab.getState().setTraining({ queued: 0 });
}

// -------------------------------------------------------------------------------------------
// Runs

export async function renameRun(id: string, name: string): Promise<void> {
  const r = useLab.getState().runs[id];
  if (!r || !name.trim()) return;
  const next = { ...r, name: name.trim() };
  useLab.getState().putRun(next);
  await db.updateRun(next);
}

export async function deleteRun(id: string): Promise<void> {
  useLab.getState().removeRun(id);
  dropRun(id);
  await db.deleteRun(id);
}

/** Prefills the training form with a run's settings (change the weights, then start). */
export function duplicateRun(id: string): void {
  const r = useLab.getState().runs[id];
  if (!r) return;
  const lab = useLab.getState();
  const { lr: _lr, totalSteps: _t, ...stored } = r.options;
  // A run from an older version may carry options the strategy no longer has: keep the rest.
  const known = lab.strategies.find((s) => s.name === r.strategy)?.defaultOptions;
  const options = known ? Object.fromEntries(Object.entries(stored).filter(([k]) => k in known)) : stored;
  lab.setForm({
    strategy: r.strategy, options: { ...lab.form.options, [r.strategy]: options }, steps: r.steps || lab.form.steps,
    batch: r.batch, crop: r.crop, lr: r.lr, seed: r.seed, name: `${r.name} (copy)`,
  });
  lab.set({ tab: 'train', open: true });
}

async function weightsOf(id: string): Promise<RunWeights | undefined> {
  let w = getRunWeights(id);
  if (!w) {
    w = await db.getWeights(id);
    if (w) setRunWeights(id, w);
  }
  return w;
}

const inflight = new Set<string>();

/**
 * Fuses a pair with a run's F (or the pretrained F: `PRETRAINED`) and scores it: fusion
 * metrics, mIoU against the label, mAP@0.5 against the pair's boxes.
 */
export async function ensureResult(runId: string, pairId: string): Promise<void> {
  const key = resultKey(runId, pairId);
  const lab = useLab.getState();
  if (inflight.has(key) || lab.results[key]?.status === 'done' || lab.results[key]?.status === 'error') return;
  const pair = useStore.getState().pairs[pairId];
  const inp = getInputs(pairId);
  if (!pair || !inp) return;
  inflight.add(key);
  lab.setResult(key, { status: 'pending' });
  const client = getEngine();
  try {
    const maxSide = useStore.getState().settings.maxSide;
    let r;
    if (runId === PRETRAINED) {
      r = await client.fuse(key, inp.ir, inp.vi, inp.label, { maxSide });
    } else {
      const w = await weightsOf(runId);
      if (!w?.fusion) throw new Error('the run has no fusion weights');
      r = await client.fuseWithRun(key, inp.ir, inp.vi, inp.label, { maxSide }, { key: runId, weights: w.fusion });
    }
    r.ir.close();
    r.vi.close();
    const evicted = setRunImages(key, { width: r.width, height: r.height, fused: r.fused, seg: r.seg, detections: r.detections });
    const s = r.width / (r.source.ir.width || r.width);
    const boxes = pair.gt?.map((b) => [b[0] * s, b[1] * s, b[2] * s, b[3] * s, b[4]] as [number, number, number, number, number]);
    const m = await client.metricsWithBoxes(key, boxes);
    const scores: PairScores = { metrics: m.metrics, ...(m.miou !== undefined ? { miou: m.miou } : {}), ...(m.map50 !== undefined ? { map50: m.map50 } : {}) };
    if (evicted.length) {
      // Their bitmaps are gone: forget them so that they are fused again when shown.
      const rest = Object.fromEntries(Object.entries(useLab.getState().results).filter(([k]) => !evicted.includes(k)));
      useLab.setState({ results: rest });
    }
    const l = useLab.getState();
    l.setResult(key, { status: 'done', version: (l.results[key]?.version ?? 0) + 1, scores, error: undefined });
    const run = l.runs[runId];
    if (run) {
      const next = { ...run, scores: { ...run.scores, [pair.name]: scores } };
      l.putRun(next);
      void db.updateRun(next).catch(() => undefined);
    }
  } catch (e) {
    useLab.getState().setResult(key, { status: 'error', error: (e as Error).message });
  } finally {
    inflight.delete(key);
  }
}

/** Forgets a failed or evicted result so that it is fused again. */
export function retryResult(runId: string, pairId: string): void {
  const key = resultKey(runId, pairId);
  const l = useLab.getState();
  const { [key]: _gone, ...rest } = l.results;
  useLab.setState({ results: rest });
}

/** TDFusion's learned IR weight map of a `td` run on a pair (needs the run's result on that pair first). */
export async function loadWeightMap(runId: string, pairId: string): Promise<void> {
  const w = await weightsOf(runId);
  if (!w?.lossGenerator) throw new Error('this run has no loss-generator weights');
  const m = await getEngine().weightMap(resultKey(runId, pairId), w.lossGenerator);
  setWeightMap(resultKey(runId, pairId), m);
}

// -------------------------------------------------------------------------------------------
// Export / import

function fileBase(r: RunRecord): string {
  return r.name.replace(/[^\w.-]+/g, '_').replace(/^_+|_+$/g, '') || r.id;
}

/**
 * Downloads a run's weights in the TensorFlow.js weights format, one pair of files per model
 * it holds (F always; D, S, G when the strategy moved them): `<run>.<model>.model.json` (its
 * manifest points at the shard's file name) + `<run>.<model>.weights.bin`. The run's settings
 * ride along in `userDefinedMetadata.run`.
 */
export async function exportRunWeights(id: string): Promise<void> {
  const r = useLab.getState().runs[id];
  const w = await weightsOf(id);
  if (!r || !w?.fusion) throw new Error('the run has no fusion weights');
  const models = (['fusion', 'lossGenerator', 'discriminator', 'segdet'] as const).filter((m) => w[m]);
  for (const model of models) {
    const mw = w[model]!;
    const base = `${fileBase(r)}.${model}`;
    const json = structuredClone(mw.modelJson) as { weightsManifest: { paths: string[] }[]; userDefinedMetadata?: Record<string, unknown> };
    json.weightsManifest.forEach((g, i) => { g.paths = [i === 0 ? `${base}.weights.bin` : g.paths[0]]; });
    const { history: _h, scores: _s, ...meta } = r;
    json.userDefinedMetadata = { ...(json.userDefinedMetadata ?? {}), model, run: meta };
    saveBlob(new Blob([JSON.stringify(json, null, 1)], { type: 'application/json' }), `${base}.model.json`);
    await new Promise((res) => setTimeout(res, 300));
    saveBlob(new Blob([mw.weightData], { type: 'application/octet-stream' }), `${base}.weights.bin`);
    await new Promise((res) => setTimeout(res, 300));
  }
}

const MODEL_KEYS = ['fusion', 'discriminator', 'segdet', 'lossGenerator'] as const;
type ModelKey = (typeof MODEL_KEYS)[number];

/**
 * Loads exported weights back as a new run: one or more `model.json` files with their `.bin`
 * shards (matched by the manifest's shard name, or the only pair given). F is required; G,
 * D, S are kept when present. The worker checks each against the model's parameter names and
 * shapes first. @throws naming what is wrong.
 */
export async function importRunWeights(files: File[]): Promise<string> {
  const jsons = files.filter((f) => /\.json$/i.test(f.name));
  const bins = files.filter((f) => /\.bin$/i.test(f.name));
  if (jsons.length === 0 || bins.length === 0) throw new Error('choose a model.json and its .bin weights file together');
  const weights: RunWeights = {};
  let meta: Partial<RunRecord> = {};
  let fusionFile = jsons[0].name;
  for (const jf of jsons) {
    let modelJson: Record<string, unknown>;
    try {
      modelJson = JSON.parse(await jf.text()) as Record<string, unknown>;
    } catch {
      throw new Error(`${jf.name} is not JSON`);
    }
    const udm = (modelJson.userDefinedMetadata ?? {}) as { model?: string; run?: Partial<RunRecord> };
    const named = MODEL_KEYS.find((m) => jf.name.includes(`.${m}.`));
    const model: ModelKey = MODEL_KEYS.find((m) => m === udm.model) ?? named ?? 'fusion';
    const shard = (modelJson.weightsManifest as { paths?: string[] }[] | undefined)?.[0]?.paths?.[0];
    const bin = bins.find((b) => b.name === shard) ?? (jsons.length === 1 && bins.length === 1 ? bins[0] : undefined);
    if (!bin) throw new Error(`no weights file ${shard ?? ''} for ${jf.name}`);
    const mw: ModelWeights = { modelJson, weightData: await bin.arrayBuffer() };
    try {
      await getEngine().checkWeights(model, mw);
    } catch (e) {
      throw new Error(`${jf.name} does not fit the ${model} model: ${(e as Error).message}`);
    }
    weights[model] = mw;
    if (model === 'fusion') {
      meta = udm.run ?? {};
      fusionFile = jf.name;
    }
  }
  if (!weights.fusion) throw new Error('no fusion (F) weights among the files');
  const run: RunRecord = {
    id: newId(), name: `${meta.name ?? fusionFile.replace(/\.model\.json$|\.json$/i, '')} (imported)`,
    strategy: meta.strategy ?? 'fixed', options: meta.options ?? {}, seed: meta.seed ?? 0, steps: meta.steps ?? 0,
    batch: meta.batch ?? 0, crop: meta.crop ?? 0, lr: meta.lr ?? 0, history: [],
    notes: [`Imported from ${files.map((f) => f.name).join(', ')}.`],
    labelSources: {}, pairNames: meta.pairNames ?? [], models: Object.keys(weights), createdAt: Date.now(), seconds: 0,
    backend: meta.backend ?? '', stopped: meta.stopped ?? false, origin: 'imported', scores: {},
  };
  await saveRun(run, weights);
  const l = useLab.getState();
  l.set({ compareIds: [...l.compareIds, run.id] });
  return run.id;
}

const METRIC_KEYS = ['EN', 'SD', 'SF', 'AG', 'MI', 'SCD', 'VIF', 'Qabf', 'SSIM'] as const;

/** The comparison table of a pair as rows (pretrained first, then the compared runs). */
export function metricsRows(pairId: string): { id: string; name: string; strategy: string; scores?: PairScores }[] {
  const l = useLab.getState();
  const rows = [{ id: PRETRAINED, name: 'pretrained F', strategy: '-', scores: l.results[resultKey(PRETRAINED, pairId)]?.scores }];
  for (const id of l.compareIds) {
    const r = l.runs[id];
    if (r) rows.push({ id, name: r.name, strategy: r.strategy, scores: l.results[resultKey(id, pairId)]?.scores });
  }
  return rows;
}

/** Downloads the comparison of a pair as CSV or JSON. */
export function exportMetrics(pairId: string, format: 'csv' | 'json'): void {
  const pair = useStore.getState().pairs[pairId];
  if (!pair) return;
  const rows = metricsRows(pairId);
  const name = `metrics_${pair.name}`;
  if (format === 'json') {
    const l = useLab.getState();
    const out = {
      pair: pair.name,
      rows: rows.map((r) => ({
        run: r.name, id: r.id, strategy: r.strategy, ...(r.scores?.metrics ?? {}), mIoU: r.scores?.miou ?? null, mAP50: r.scores?.map50 ?? null,
        options: l.runs[r.id]?.options, seed: l.runs[r.id]?.seed, steps: l.runs[r.id]?.steps,
      })),
    };
    saveBlob(new Blob([JSON.stringify(out, null, 2)], { type: 'application/json' }), `${name}.json`);
    return;
  }
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [['run', 'strategy', ...METRIC_KEYS, 'mIoU', 'mAP50'].join(',')];
  for (const r of rows) {
    const m = r.scores?.metrics;
    lines.push([q(r.name), r.strategy, ...METRIC_KEYS.map((k) => (m ? String(m[k]) : '')),
      r.scores?.miou !== undefined ? String(r.scores.miou) : '', r.scores?.map50 !== undefined ? String(r.scores.map50) : ''].join(','));
  }
  saveBlob(new Blob([lines.join('\n') + '\n'], { type: 'text/csv' }), `${name}.csv`);
}
