/**
 * The one feed of the worker: every result in the store (the pretrained model's on each pair,
 * and the runs' that the viewer or the comparison asked for), one job at a time, each fused
 * and then scored at once (the worker keeps only a few results to score). The selected pair
 * goes first, then pairs in list order, then run results. A result that leaves the store
 * aborts its job and frees its images.
 */
import { WorkerRestartedError, type WorkerClient } from '../client';
import type { FusedBy, ModelWeights } from '../protocol/messages';
import { fusedByOf } from './methods';
import { adaptedWeightsOf } from './adapt';
import { adaptedBase } from './store/lab';
import { dropResultImages, getInputs, setResultImages } from './cache';
import { recordRunScores, weightsOf } from './runs';
import { needsFusing, PRETRAINED, resultKey, type PairScores, type ResultState } from './store/results';
import { useStore, type Store } from './store/store';

type Task = { kind: 'fuse' | 'score'; key: string };

/**
 * The next job: exported for its test. A fused result still to score comes first (the worker
 * keeps only a few fused results, and the page may evict its images); a result whose images
 * were evicted before it was scored is fused again.
 */
export function pickNext(s: Store): Task | null {
  const sel = s.selectedId;
  const selKey = sel ? resultKey(PRETRAINED, sel) : '';
  if (sel && (s.results[selKey]?.status === 'queued' || needsFusing(s.results[selKey]))) return { kind: 'fuse', key: selKey };
  // A video playing is scored when it pauses: frames come faster than they could be scored.
  const unscored = (r: ResultState) => r.status === 'done' && !r.evicted && r.scoresStatus === 'none' && r.pairId !== s.playing;
  const score = Object.keys(s.results).find((k) => unscored(s.results[k]));
  if (score) return { kind: 'score', key: score };
  const waiting = (r: ResultState | undefined) => r?.status === 'queued' || (r?.status === 'done' && r.evicted && r.scoresStatus === 'none');
  const queued = (pretrained: boolean) => {
    const keys = s.order.map((id) => resultKey(PRETRAINED, id));
    const pool = pretrained ? keys : Object.keys(s.results).filter((k) => s.results[k].runId !== PRETRAINED);
    // The selected pair's run results before other pairs'.
    return pool.find((k) => waiting(s.results[k]) && s.results[k].pairId === sel) ?? pool.find((k) => waiting(s.results[k]));
  };
  const fuse = queued(true) ?? queued(false);
  return fuse ? { kind: 'fuse', key: fuse } : null;
}

/**
 * Resolves once the page has drawn what the last result changed: after the next frame's paint,
 * or at once where no frame comes (a hidden tab, Node), or after 100 ms at most. The scheduler
 * waits for it before each worker job (and between fusing and scoring): on two cores a frame drawn while the worker's WASM
 * threads run took over 50 ms (the set-compare long-task probe: mostly the compositor commit,
 * starved); drawn while the worker waits, it takes a fraction of that, for a pause of about one
 * frame per job of a second or so.
 */
export function afterNextPaint(): Promise<void> {
  return new Promise((resolve) => {
    const visible = typeof requestAnimationFrame === 'function' && !(typeof document !== 'undefined' && document.hidden);
    if (!visible) {
      setTimeout(resolve, 0);
      return;
    }
    const timer = setTimeout(resolve, 100);
    // A task queued from the frame callback runs after that frame's paint and commit.
    requestAnimationFrame(() => setTimeout(() => {
      clearTimeout(timer);
      resolve();
    }, 0));
  });
}

/** Aborted, or cut short by a worker restart: the task did not fail and is tried again. */
function isInterruption(e: unknown): boolean {
  return (e instanceof DOMException && e.name === 'AbortError') || e instanceof WorkerRestartedError
    || (e as Error).name === 'DeviceLostError' || useStore.getState().worker.status !== 'ready';
}

async function fuse(client: WorkerClient, r: ResultState, key: string, signal: AbortSignal): Promise<void> {
  const st = useStore.getState();
  const inputs = getInputs(r.pairId);
  if (!inputs) {
    st.updateResult(key, { status: 'error', error: 'input files are gone' });
    return;
  }
  // A run scored with its adapted S is its run's F (or method) with that S.
  const adapted = adaptedBase(r.runId);
  const runId = adapted ?? r.runId;
  let fusionWeights: (ModelWeights & { key: string }) | undefined;
  let segdetWeights: (ModelWeights & { key: string }) | undefined;
  let fusedBy: FusedBy | undefined;
  try {
    fusedBy = fusedByOf(runId, st.pairs[r.pairId]?.name ?? '');
    if (runId !== PRETRAINED && !fusedBy) {
      const w = await weightsOf(runId);
      if (!w?.fusion) throw new Error('the run has no fusion weights');
      fusionWeights = { key: runId, ...w.fusion };
    }
    if (adapted !== null) {
      segdetWeights = await adaptedWeightsOf(runId);
      if (!segdetWeights) throw new Error('S has not been adapted to this run');
    }
  } catch (e) {
    st.updateResult(key, { status: 'error', error: (e as Error).message });
    return;
  }
  st.updateResult(key, { status: 'fusing' });
  const aspect = st.pairs[r.pairId]?.aspect;
  const out = await client.fuse(key, inputs.ir, inputs.vi, inputs.label, { maxSide: st.settings.maxSide, ...(aspect ? { aspect } : {}) }, { signal, fusionWeights, segdetWeights, fusedBy });
  if (!useStore.getState().results[key]) {
    for (const b of [out.fused, out.ir, out.vi]) b.close();
    return;
  }
  // Only the pretrained result is shown as IR and VI too.
  const pretrained = r.runId === PRETRAINED;
  if (!pretrained) for (const b of [out.ir, out.vi]) b.close();
  const evicted = setResultImages(key, {
    pairId: r.pairId, width: out.width, height: out.height, fused: out.fused, seg: out.seg, label: out.label, detections: out.detections,
    ...(pretrained ? { ir: out.ir, vi: out.vi } : {}),
  }, useStore.getState().selectedId);
  const s = useStore.getState();
  if (evicted.length) s.updateResults(evicted, { evicted: true });
  // A video pair moved to another frame meanwhile: show this one, fuse that one next.
  const moved = getInputs(r.pairId) !== inputs;
  s.updateResult(key, {
    status: moved ? 'queued' : 'done', stale: moved, evicted: false, error: undefined, version: (s.results[key]?.version ?? 0) + 1,
    size: { width: out.width, height: out.height }, source: out.source, detections: out.detections, notices: out.notices,
    timings: out.timings, backend: out.backend, scoresStatus: 'none', scores: undefined,
  });
}

async function score(client: WorkerClient, r: ResultState, key: string, signal: AbortSignal): Promise<void> {
  const st = useStore.getState();
  const pair = st.pairs[r.pairId];
  st.updateResult(key, { scoresStatus: 'pending' });
  // Ground-truth boxes are given at the file's size; the result may be reduced.
  const f = r.size && r.source ? r.size.width / (r.source.ir.width || r.size.width) : 1;
  const boxes = pair?.gt?.map((b) => [b[0] * f, b[1] * f, b[2] * f, b[3] * f, b[4]] as [number, number, number, number, number]);
  const m = await client.metrics(key, boxes, { signal });
  const scores: PairScores = {
    metrics: m.metrics, ...(m.evaluation.undefinedMetrics ? { undefinedMetrics: m.evaluation.undefinedMetrics } : {}),
    ...(m.miou !== undefined ? { miou: m.miou } : {}), ...(m.map50 !== undefined ? { map50: m.map50 } : {}),
  };
  const s = useStore.getState();
  s.updateResult(key, { scoresStatus: 'done', scores, evaluation: m.evaluation, scoresMs: m.ms });
  if (r.runId !== PRETRAINED && pair) recordRunScores(r.runId, pair.name, scores);
}

/** Starts feeding the worker. @returns a function that stops it (aborting the running job). */
export function startScheduler(client: WorkerClient): () => void {
  /** The job running; `scoring` once its result is fused and being scored. */
  let current: (Task & { ctrl: AbortController; scoring: boolean }) | null = null;
  let stopped = false;

  const run = async (task: Task & { scoring: boolean }, ctrl: AbortController): Promise<void> => {
    await afterNextPaint();
    const r = useStore.getState().results[task.key];
    if (!r || ctrl.signal.aborted) return;
    if (task.kind === 'fuse') {
      try {
        await fuse(client, r, task.key, ctrl.signal);
      } catch (e) {
        const s = useStore.getState();
        if (s.results[task.key]) {
          s.updateResult(task.key, isInterruption(e) ? { status: 'queued' }
            : { status: (e as Error).name === 'AspectMismatchError' ? 'held' : 'error', error: (e as Error).message });
        }
        return;
      }
    }
    // Scored right after fusing: the worker keeps only a few results to score. (A job aborted
    // as it ended leaves its result unscored: the next pick scores it.)
    await afterNextPaint();
    const fused = useStore.getState().results[task.key];
    if (ctrl.signal.aborted || fused?.status !== 'done' || fused.scoresStatus !== 'none' || useStore.getState().playing === fused.pairId) return;
    task.scoring = true;
    try {
      await score(client, fused, task.key, ctrl.signal);
    } catch (e) {
      const s = useStore.getState();
      if (!s.results[task.key]) return;
      if (isInterruption(e)) {
        s.updateResult(task.key, { scoresStatus: 'none' });
      } else {
        s.updateResult(task.key, { scoresStatus: 'error' });
        s.addLog('warn', `Metrics for ${s.pairs[r.pairId]?.name ?? r.pairId}: ${(e as Error).message}`);
      }
    }
  };

  const tick = () => {
    if (stopped) return;
    const s = useStore.getState();
    if (current) {
      const r = s.results[current.key];
      // Scores are dropped for a result that is gone, fused again (a video's next frame) or playing: they are asked for later.
      if (!r || (current.scoring && (r.status === 'queued' || s.playing === r.pairId))) current.ctrl.abort();
      return;
    }
    if (s.worker.status !== 'ready') return;
    const task = pickNext(s);
    if (!task) return;
    const ctrl = new AbortController();
    const job = { ...task, ctrl, scoring: false };
    current = job;
    void run(job, ctrl).finally(() => {
      current = null;
      tick();
    });
  };

  const unsubscribe = useStore.subscribe((s, prev) => {
    // Results that left the store (pair or run removed, retried) free their images.
    if (s.results !== prev.results) dropResultImages(Object.keys(prev.results).filter((k) => !s.results[k]));
    tick();
  });
  tick();
  return () => {
    stopped = true;
    unsubscribe();
    current?.ctrl.abort();
  };
}
