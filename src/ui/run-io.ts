/**
 * Runs in and out of the page: a run as one file (`.fprun`: settings, history, scores and the
 * weights of every model it moved) or its weights in the TensorFlow.js format, both imported
 * back as a new run; and a pair's comparison table as CSV or JSON.
 */
import { getWorker } from '../client';
import { FUSION_METRIC_NAMES } from '../core/types';
import type { ModelWeights, RunModel, RunWeights } from '../protocol/messages';
import { saveBlob } from './render';
import { newRunId, saveRun, weightsOf } from './runs';
import { parseRunRecord, RUN_MODELS } from '../core/runs/record';
import { checkRunFileSize, decodeRunFile, encodeRunFile, RUN_FILE_EXTENSION } from './run-file';
import { comparedEntries, type RunRecord } from './store/lab';
import { PRETRAINED, resultKey, type PairScores } from './store/results';
import { useStore } from './store/store';

/** A run's name as a file name. */
export function fileBase(r: RunRecord): string {
  return r.name.replace(/[^\w.-]+/g, '_').replace(/^_+|_+$/g, '') || r.id;
}

/** Downloads a run as one file: `<run>.fprun`. */
export async function exportRun(id: string): Promise<void> {
  const r = useStore.getState().runs[id];
  const w = await weightsOf(id);
  if (!r || !w?.fusion) throw new Error('the run has no fusion weights');
  saveBlob(new Blob([encodeRunFile(r, w)], { type: 'application/octet-stream' }), `${fileBase(r)}${RUN_FILE_EXTENSION}`);
}

/** Checks each model's weights against its parameter names and shapes (in the worker). @throws naming the file and model. */
async function checkModels(weights: RunWeights, file: string): Promise<void> {
  for (const [model, mw] of Object.entries(weights) as [RunModel, ModelWeights][]) {
    try {
      await getWorker().checkWeights(model, mw);
    } catch (e) {
      throw new Error(`${file} does not fit the ${model} model: ${(e as Error).message}`);
    }
  }
}

/** Keeps imported weights as a new run, compared from now on. */
async function addImportedRun(run: RunRecord, weights: RunWeights): Promise<string> {
  await saveRun(run, weights);
  const l = useStore.getState();
  l.setLab({ compareIds: [...l.compareIds, run.id] });
  return run.id;
}

/** What an import did: the runs added (ids) and, per file refused, why. */
export interface ImportReport {
  added: string[];
  failed: string[];
}

/**
 * Loads runs back: `.fprun` files (each a run, each on its own: a broken one does not stop
 * the others), or exported TensorFlow.js weights (see {@link importRunWeights}).
 */
export async function importRuns(files: File[]): Promise<ImportReport> {
  const runFiles = files.filter((f) => f.name.toLowerCase().endsWith(RUN_FILE_EXTENSION));
  const report: ImportReport = { added: [], failed: [] };
  if (!runFiles.length) {
    try {
      report.added.push(await importRunWeights(files));
    } catch (e) {
      report.failed.push((e as Error).message);
    }
    return report;
  }
  for (const f of runFiles) {
    try {
      checkRunFileSize(f.size);
      const decoded = decodeRunFile(new Uint8Array(await f.arrayBuffer()));
      await checkModels(decoded.weights, f.name);
      const { unsaved: _unsaved, ...run } = decoded.run;
      report.added.push(await addImportedRun(parseRunRecord({
        ...run, id: newRunId(), name: `${run.name} (imported)`, origin: 'imported', models: Object.keys(decoded.weights),
        notes: [...run.notes, `Imported from ${f.name}.`],
      }), decoded.weights));
    } catch (e) {
      report.failed.push(`${f.name}: ${(e as Error).message.replace(`${f.name} `, '')}`);
    }
  }
  return report;
}

/**
 * Downloads a run's weights in the TensorFlow.js weights format, one pair of files per model
 * it holds (F always; D, S, G when the strategy moved them): `<run>.<model>.model.json` (its
 * manifest points at the shard's file name) + `<run>.<model>.weights.bin`. The run's settings
 * ride along in `userDefinedMetadata.run`.
 */
export async function exportRunWeights(id: string): Promise<void> {
  const r = useStore.getState().runs[id];
  const w = await weightsOf(id);
  if (!r || !w?.fusion) throw new Error('the run has no fusion weights');
  const models = RUN_MODELS.filter((m) => w[m]);
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


/** The manifest with its one shard named as the file picked, so that what is said of the shard names that file. */
function withShardName(modelJson: Record<string, unknown>, file: string): Record<string, unknown> {
  const groups = modelJson.weightsManifest;
  if (!Array.isArray(groups) || groups.length !== 1 || typeof groups[0] !== 'object' || !groups[0]) return modelJson;
  return { ...modelJson, weightsManifest: [{ ...groups[0], paths: [file] }] };
}

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
  let meta: Partial<RunRecord> & Record<string, unknown> = {};
  let fusionFile = jsons[0].name;
  for (const jf of jsons) {
    let modelJson: Record<string, unknown>;
    try {
      modelJson = JSON.parse(await jf.text()) as Record<string, unknown>;
    } catch {
      throw new Error(`${jf.name} is not JSON`);
    }
    const udm = (modelJson.userDefinedMetadata ?? {}) as { model?: string; run?: Partial<RunRecord> };
    const named = RUN_MODELS.find((m) => jf.name.includes(`.${m}.`));
    const model: RunModel = RUN_MODELS.find((m) => m === udm.model) ?? named ?? 'fusion';
    const shard = (modelJson.weightsManifest as { paths?: string[] }[] | undefined)?.[0]?.paths?.[0];
    const bin = bins.find((b) => b.name === shard) ?? (jsons.length === 1 && bins.length === 1 ? bins[0] : undefined);
    if (!bin) throw new Error(`no weights file ${shard ?? ''} for ${jf.name}`);
    checkRunFileSize(bin.size);
    const mw: ModelWeights = { modelJson: withShardName(modelJson, bin.name), weightData: await bin.arrayBuffer() };
    await checkModels({ [model]: mw }, jf.name);
    weights[model] = mw;
    if (model === 'fusion') {
      meta = udm.run ?? {};
      fusionFile = jf.name;
    }
  }
  if (!weights.fusion) throw new Error('no fusion (F) weights among the files');
  const run = parseRunRecord({
    // What a manifest that says nothing of its run stands for; a run's own settings replace it.
    strategy: 'fixed', options: {}, seed: 0, steps: 0, batch: 0, crop: 0,
    ...meta,
    id: newRunId(), name: `${meta.name ?? fusionFile.replace(/\.model\.json$|\.json$/i, '')} (imported)`, history: [],
    notes: [`Imported from ${files.map((f) => f.name).join(', ')}.`],
    labelSources: {}, pairNames: meta.pairNames ?? [], models: Object.keys(weights), createdAt: Date.now(), seconds: 0,
    backend: meta.backend ?? '', stopped: meta.stopped ?? false, origin: 'imported', scores: {},
  }, 'the run in its userDefinedMetadata');
  return addImportedRun(run, weights);
}


/** The comparison table of a pair as rows (pretrained first, then the compared runs). */
export function metricsRows(pairId: string): { id: string; name: string; strategy: string; scores?: PairScores }[] {
  const l = useStore.getState();
  const rows = [{ id: PRETRAINED, name: 'pretrained F', strategy: '-', scores: l.results[resultKey(PRETRAINED, pairId)]?.scores }];
  for (const e of comparedEntries(l)) rows.push({ ...e, scores: l.results[resultKey(e.id, pairId)]?.scores });
  return rows;
}

/** Downloads the comparison of a pair as CSV or JSON. */
export function exportMetrics(pairId: string, format: 'csv' | 'json'): void {
  const pair = useStore.getState().pairs[pairId];
  if (!pair) return;
  const rows = metricsRows(pairId);
  const name = `metrics_${pair.name}`;
  if (format === 'json') {
    const l = useStore.getState();
    const out = {
      pair: pair.name,
      rows: rows.map((r) => ({
        run: r.name, id: r.id, strategy: r.strategy, ...(r.scores?.metrics ?? {}), mIoU: r.scores?.miou ?? null, mAP50: r.scores?.map50 ?? null,
        ...(r.scores?.undefinedMetrics ? { undefined: r.scores.undefinedMetrics } : {}),
        spec: l.runs[r.id]?.spec, steps: l.runs[r.id]?.steps,
      })),
    };
    saveBlob(new Blob([JSON.stringify(out, null, 2)], { type: 'application/json' }), `${name}.json`);
    return;
  }
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [['run', 'strategy', ...FUSION_METRIC_NAMES, 'mIoU', 'mAP50'].join(',')];
  for (const r of rows) {
    const m = r.scores?.metrics;
    lines.push([q(r.name), r.strategy, ...FUSION_METRIC_NAMES.map((k) => (!m ? '' : Number.isFinite(m[k]) ? String(m[k]) : q(`n/a (${r.scores?.undefinedMetrics?.[k] ?? 'undefined'})`))),
      r.scores?.miou !== undefined ? String(r.scores.miou) : '', r.scores?.map50 !== undefined ? String(r.scores.map50) : ''].join(','));
  }
  saveBlob(new Blob([lines.join('\n') + '\n'], { type: 'text/csv' }), `${name}.csv`);
}
