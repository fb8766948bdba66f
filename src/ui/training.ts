/**
 * Fine-tuning from the UI: start one with the form's settings (kept as a run when it ends),
 * pause / resume / stop / discard it, and sweeps of `fixed` weightings run one after another.
 */
import { recordStepTime } from './step-times';
import { getWorker, type TrainHandle } from '../client';
import type { FinetuneSpec, TrainPairSource } from '../protocol/messages';
import { getInputs, setPreview } from './cache';
import { newRunId, saveRun } from './runs';
import { idleTraining, type RunRecord } from './store/lab';
import { PRETRAINED, resultKey } from './store/results';
import { useStore, type PairState } from './store/store';
import { sampledFrames } from './video/player';

let current: { handle: TrainHandle; ctrl: AbortController } | null = null;
/** Set while a start decodes its video frames (before `current` exists). */
let starting = false;
let sweepAbort = false;

function boxesOf(p: PairState): TrainPairSource['boxes'] {
  return p.gt?.map((b) => [b[0], b[1], b[2], b[3], b[4]] as [number, number, number, number, number]);
}

const isHeld = (id: string) => useStore.getState().results[resultKey(PRETRAINED, id)]?.status === 'held';

/** A pair as the trainer reads it; none for a pair without inputs or held for a choice. */
export function sourceOf(p: PairState, previewOnly = false): TrainPairSource | null {
  const inp = getInputs(p.id);
  if (!inp || isHeld(p.id)) return null;
  return {
    pairId: p.id, name: p.name, ir: inp.ir, vi: inp.vi, ...(inp.label ? { label: inp.label } : {}),
    ...(p.gt ? { boxes: boxesOf(p) } : {}), ...(previewOnly ? { previewOnly } : {}), ...(p.aspect ? { aspect: p.aspect } : {}),
  };
}

/**
 * What the trainer reads of a chosen pair: the pair itself, or for a video pair `frames` frames
 * spread over it (unlabelled, so their task targets are pseudo-labels, as for unlabelled images).
 * The sampled frames' bitmaps go into `owned`, for the caller to close once they are sent.
 */
async function trainSources(p: PairState, frames: number, owned: ImageBitmap[]): Promise<TrainPairSource[]> {
  if (p.media !== 'video') {
    const s = sourceOf(p);
    return s ? [s] : [];
  }
  if (isHeld(p.id)) return [];
  const sampled = await sampledFrames(p.id, frames);
  owned.push(...sampled.flatMap((f) => f.bitmaps));
  return sampled.map((f) => ({
    pairId: `${p.id}#${f.index}`, name: `${p.name} frame ${f.index}`, ir: f.ir, vi: f.vi, ...(p.aspect ? { aspect: p.aspect } : {}),
  }));
}

function defaultName(strategy: string, options: Record<string, unknown>): string {
  const n = Object.keys(useStore.getState().runs).length + 1;
  if (strategy === 'fixed') return `#${n} fixed int ${String(options.intensity ?? 1)} : grad ${String(options.gradient ?? 10)}`;
  return `#${n} ${strategy}`;
}

/**
 * Runs one fine-tune of the form's spec (or `spec`) and keeps the result as a run. Resolves
 * with the run id, or null when discarded or failed.
 */
export async function startTraining(spec?: FinetuneSpec, name?: string, group?: string): Promise<string | null> {
  const chosen = spec ?? useStore.getState().form.spec;
  if (current || starting || !chosen) return null;
  starting = true;
  const owned: ImageBitmap[] = [];
  try {
    return await train(chosen, owned, name, group);
  } finally {
    starting = false;
    for (const b of owned) b.close();
  }
}

async function train(spec: FinetuneSpec, owned: ImageBitmap[], name?: string, group?: string): Promise<string | null> {
  const st = useStore.getState();
  const { form } = st;
  const ids = form.pairIds.length ? form.pairIds.filter((id) => st.pairs[id]) : st.order;
  const videos = ids.filter((id) => st.pairs[id].media === 'video');
  if (videos.length) st.setTraining({ ...idleTraining, status: 'preparing', queued: st.training.queued });
  let sources: TrainPairSource[];
  try {
    sources = (await Promise.all(ids.map((id) => trainSources(st.pairs[id], form.videoFrames, owned)))).flat();
  } catch (e) {
    const error = `Could not decode the video frames to train on: ${(e as Error).message}`;
    useStore.getState().setTraining({ ...idleTraining, error, queued: useStore.getState().training.queued });
    return null;
  }
  if (videos.length) st.addLog('info', `Fine-tune: ${videos.map((id) => st.pairs[id].name).join(', ')} give ${sources.filter((s) => !st.pairs[s.pairId]).length} sampled frames.`);
  const previewId = st.selectedId ?? ids[0];
  if (previewId && !sources.some((s) => s.pairId === previewId) && st.pairs[previewId]) {
    const s = sourceOf(st.pairs[previewId], true);
    if (s) sources.push(s);
  }
  if (!sources.some((s) => !s.previewOnly)) {
    st.setTraining({ ...idleTraining, error: 'No pairs to train on.' });
    return null;
  }
  const runName = name ?? (form.name.trim() || defaultName(spec.strategy, spec.options));
  st.setTraining({ ...idleTraining, error: undefined, lastRunId: undefined, status: 'preparing', total: spec.steps, previewPairId: previewId, queued: st.training.queued,
    work: { strategy: spec.strategy, batch: spec.batch, crop: spec.crop } });
  const ctrl = new AbortController();
  const handle = getWorker().train(spec, form.previewEvery, sources, previewId ?? '', {
    signal: ctrl.signal,
    onTrainProgress: (p) => {
      const l = useStore.getState();
      if (p.losses.length) l.addLosses(p.losses);
      const status = l.training.status === 'stopping' ? 'stopping' : p.state;
      l.setTraining({
        status, step: p.step, total: p.total, etaS: p.etaS, msPerStep: p.msPerStep, backend: l.worker.backend?.name,
        ...(p.note ? { notes: [...l.training.notes, p.note] } : {}),
        ...(p.labelSources ? { labelSources: p.labelSources } : {}),
      });
    },
    onPreview: (p) => {
      setPreview(p.fused);
      const l = useStore.getState();
      l.setTraining({ previewVersion: l.training.previewVersion + 1, previewPairId: p.pairId });
    },
  });
  current = { handle, ctrl };
  try {
    const r = await handle.result;
    useStore.getState().setTraining({ status: 'saving' });
    const run: RunRecord = {
      id: newRunId(), name: runName, spec: r.spec, steps: r.steps, history: r.history, notes: r.notes,
      labelSources: r.labelSources, pairNames: sources.filter((s) => !s.previewOnly).map((s) => s.name),
      models: Object.keys(r.weights), createdAt: Date.now(), seconds: r.seconds, backend: r.backend, stopped: r.stopped,
      origin: 'trained', scores: {}, ...(group ? { group } : {}),
    };
    await saveRun(run, r.weights);
    const l = useStore.getState();
    recordStepTime({ backend: r.backend, ...l.training.work!, msPerStep: l.training.msPerStep, at: Date.now() });
    l.setTraining({ status: 'idle', notes: r.notes, lastRunId: run.id });
    l.setLab({ compareIds: [...l.compareIds.filter((x) => x !== run.id), run.id], swipeB: run.id });
    useStore.getState().addLog('info', `Fine-tune "${run.name}" done: ${r.steps} steps in ${r.seconds.toFixed(1)} s.`);
    return run.id;
  } catch (e) {
    const aborted = e instanceof DOMException && e.name === 'AbortError';
    useStore.getState().setTraining({ status: 'idle', ...(aborted ? {} : { error: (e as Error).message }) });
    if (!aborted) useStore.getState().addLog('error', `Fine-tune failed: ${(e as Error).message}`);
    return null;
  } finally {
    current = null;
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
  useStore.getState().setTraining({ status: 'stopping', queued: 0 });
  current.handle.control('stop');
}
/** Abandons the fine-tune: nothing is kept. */
export function discardTraining(): void {
  sweepAbort = true;
  useStore.getState().setTraining({ queued: 0 });
  current?.ctrl.abort();
}

/** Queues one `fixed` run per intensity:gradient ratio, one after another. */
export async function runSweep(ratios: [number, number][]): Promise<void> {
  if (current) return;
  sweepAbort = false;
  const st = useStore.getState();
  st.chooseStrategy('fixed');
  const base = useStore.getState().form.spec;
  if (!base) return;
  const group = `sweep-${Date.now().toString(36)}`;
  for (let i = 0; i < ratios.length; i++) {
    if (sweepAbort) break;
    const [a, b] = ratios[i];
    useStore.getState().setTraining({ queued: ratios.length - i - 1 });
    await startTraining({ ...base, options: { ...base.options, intensity: a, gradient: b } }, `sweep int ${a} : grad ${b}`, group);
  }
  useStore.getState().setTraining({ queued: 0 });
}
