/**
 * Task-adapted scoring in the page, as BDLFusion and TDFusion score a fusion method: S's heads
 * take K steps on each run's own fused images of the labelled pairs loaded (the same seed, crops
 * and K for every run, the pretrained F included), then each run is scored with its adapted S
 * too. A run keeps its adapted S (weights `segdetAdapted`, record `adaptedS`), stored and
 * exported with it; the pretrained F's is kept for the session. The comparison then lists each
 * run twice: with the pretrained S (frozen) and with its adapted S.
 */
import { getWorker } from '../client';
import type { ModelWeights, TrainPairSource } from '../protocol/messages';
import type { AdaptedS } from '../core/runs/record';
import { runWeights } from './cache';
import { saveRun, weightsOf } from './runs';
import { sourceOf } from './training';
import { adaptedId } from './store/lab';
import { PRETRAINED } from './store/results';
import { useStore, type PairState } from './store/store';

/** K when the person does not choose: the CLI's `--adapt-task 100` of the measured comparison. */
export const ADAPT_STEPS_DEFAULT = 100;

let ctrl: AbortController | null = null;

/** The labelled pairs loaded (images, not videos): what S adapts on. */
function labelledPairs(): PairState[] {
  const s = useStore.getState();
  return s.order.flatMap((id) => {
    const p = s.pairs[id];
    return p?.paths.label && p.media !== 'video' ? [p] : [];
  });
}

/** The labelled pairs as the worker reads them. */
function labelledSources(): TrainPairSource[] {
  return labelledPairs().flatMap((p) => {
    const src = sourceOf(p);
    return src?.label ? [src] : [];
  });
}

/** How many labelled pairs S would adapt on. */
export function labelledPairCount(): number {
  return labelledPairs().length;
}

/**
 * Adapts S to each run's fused images in turn (`pretrained` for the pretrained F), K steps each,
 * with progress in the store; Cancel stops it (runs done keep their S).
 * @throws with the worker's reason (no labelled pair, no S); the runs done before it keep theirs.
 */
export async function adaptS(runIds: string[], steps: number): Promise<void> {
  if (useStore.getState().adapting) return;
  const pairs = labelledSources();
  if (!pairs.length) throw new Error('Adapting S needs labelled pairs: load pairs with a label/ folder');
  ctrl = new AbortController();
  const signal = ctrl.signal;
  const set = useStore.getState().setLab;
  try {
    for (let i = 0; i < runIds.length && !signal.aborted; i++) {
      const runId = runIds[i];
      set({ adapting: { runId, step: 0, total: steps, queue: runIds.slice(i + 1) } });
      const fusion = runId === PRETRAINED ? undefined : (await weightsOf(runId))?.fusion;
      if (runId !== PRETRAINED && !fusion) throw new Error(`run ${useStore.getState().runs[runId]?.name ?? runId} has no fusion weights`);
      const r = await getWorker().adaptTask(fusion, pairs, steps, {
        signal,
        onProgress: (p) => set({ adapting: { runId, step: p.done, total: p.total || steps, queue: runIds.slice(i + 1) } }),
      });
      await keep(runId, r.segdet, { steps: r.steps, pairNames: r.pairNames, seconds: r.seconds, createdAt: Date.now() });
    }
  } catch (e) {
    if ((e as Error).name !== 'AbortError') throw e;
  } finally {
    ctrl = null;
    set({ adapting: null });
  }
}

/** Stops adapting (the run in progress keeps its previous S, if it had one). */
export function cancelAdapt(): void {
  ctrl?.abort();
}

async function keep(runId: string, segdet: ModelWeights, info: AdaptedS): Promise<void> {
  const s = useStore.getState();
  // Results scored with an earlier adapted S are stale.
  const stale = Object.keys(s.results).filter((k) => s.results[k].runId === adaptedId(runId));
  if (stale.length) s.dropResults(stale);
  if (runId === PRETRAINED) {
    runWeights.set(PRETRAINED, { segdetAdapted: segdet });
    s.setLab({ pretrainedAdapted: info });
    return;
  }
  const run = s.runs[runId];
  const weights = await weightsOf(runId);
  if (!run || !weights) return;
  await saveRun({ ...run, adaptedS: info, models: [...new Set([...run.models, 'segdetAdapted'])] }, { ...weights, segdetAdapted: segdet });
}

/** The adapted S a result is scored with (`runId` is the run's own id), keyed for the worker's cache. */
export async function adaptedWeightsOf(runId: string): Promise<(ModelWeights & { key: string }) | undefined> {
  const w = runId === PRETRAINED ? runWeights.get(PRETRAINED) : await weightsOf(runId);
  const at = runId === PRETRAINED ? useStore.getState().pretrainedAdapted?.createdAt : useStore.getState().runs[runId]?.adaptedS?.createdAt;
  return w?.segdetAdapted ? { key: `${runId}@${at ?? 0}`, ...w.segdetAdapted } : undefined;
}
