/**
 * Feeds the worker one job at a time from the store: fuse queued pairs (the selected one
 * first), then compute metrics for fused pairs (the selected one first). Removing a pair
 * aborts its running job.
 */
import { WorkerRestartedError, type EngineClient } from '../client';
import { getInputs, setImages } from './cache';
import { useStore, type AppState } from './store/store';

type Task = { kind: 'fuse' | 'metrics'; id: string };

function pickNext(s: AppState): Task | null {
  const sel = s.selectedId ? s.pairs[s.selectedId] : undefined;
  if (sel?.status === 'queued' || (sel?.status === 'done' && sel.evicted)) return { kind: 'fuse', id: sel.id };
  const queued = s.order.find((id) => s.pairs[id]?.status === 'queued');
  if (queued) return { kind: 'fuse', id: queued };
  if (sel?.status === 'done' && sel.metricsStatus === 'none') return { kind: 'metrics', id: sel.id };
  const m = s.order.find((id) => s.pairs[id]?.status === 'done' && s.pairs[id].metricsStatus === 'none');
  return m ? { kind: 'metrics', id: m } : null;
}

/** Aborted, or cut short by a worker restart: the task did not fail and is tried again. */
function isAbort(e: unknown): boolean {
  return (e instanceof DOMException && e.name === 'AbortError') || e instanceof WorkerRestartedError;
}

/** Starts feeding the worker. @returns a function that stops it (aborting the running job). */
export function startScheduler(client: EngineClient): () => void {
  let current: (Task & { ctrl: AbortController }) | null = null;
  let stopped = false;

  const run = async (task: Task, ctrl: AbortController): Promise<void> => {
    const st = useStore.getState();
    const pair = st.pairs[task.id];
    if (task.kind === 'fuse') {
      const inputs = getInputs(task.id);
      if (!inputs) {
        st.updatePair(task.id, { status: 'error', error: 'input files are gone' });
        return;
      }
      st.updatePair(task.id, { status: 'fusing' });
      try {
        const r = await client.fuse(task.id, inputs.ir, inputs.vi, inputs.label, { maxSide: st.settings.maxSide }, { signal: ctrl.signal });
        if (!useStore.getState().pairs[task.id]) {
          for (const b of [r.fused, r.ir, r.vi]) b.close();
          return;
        }
        const evicted = setImages(task.id, r, useStore.getState().selectedId);
        for (const id of evicted) useStore.getState().updatePair(id, { evicted: true });
        useStore.getState().updatePair(task.id, {
          status: 'done', stale: false, error: undefined, evicted: false,
          version: (useStore.getState().pairs[task.id]?.version ?? 0) + 1,
          size: { width: r.width, height: r.height }, source: r.source,
          detections: r.detections, notices: r.notices, timings: r.timings, backend: r.backend,
          metricsStatus: 'none', metrics: undefined, miou: undefined,
        });
      } catch (e) {
        const s = useStore.getState();
        if (!s.pairs[task.id]) return;
        if (isAbort(e) || s.engine.status !== 'ready' || (e as Error).name === 'DeviceLostError') {
          // Interrupted (backend switch, restart): try again later.
          s.updatePair(task.id, { status: 'queued' });
        } else {
          s.updatePair(task.id, { status: 'error', error: (e as Error).message });
        }
      }
      return;
    }
    if (!pair) return;
    st.updatePair(task.id, { metricsStatus: 'pending' });
    try {
      const m = await client.metrics(task.id, { signal: ctrl.signal });
      useStore.getState().updatePair(task.id, { metricsStatus: 'done', metrics: m.metrics, miou: m.miou, metricsMs: m.ms });
    } catch (e) {
      const s = useStore.getState();
      if (!s.pairs[task.id]) return;
      if (isAbort(e) || s.engine.status !== 'ready') s.updatePair(task.id, { metricsStatus: 'none' });
      else {
        s.updatePair(task.id, { metricsStatus: 'error' });
        s.addLog('warn', `Metrics for ${pair.name}: ${(e as Error).message}`);
      }
    }
  };

  const tick = () => {
    if (stopped) return;
    const s = useStore.getState();
    if (current) {
      if (!s.pairs[current.id]) current.ctrl.abort();
      return;
    }
    if (s.engine.status !== 'ready') return;
    const task = pickNext(s);
    if (!task) return;
    const ctrl = new AbortController();
    current = { ...task, ctrl };
    void run(task, ctrl).finally(() => {
      current = null;
      queueMicrotask(tick);
    });
  };

  const unsubscribe = useStore.subscribe(tick);
  tick();
  return () => {
    stopped = true;
    unsubscribe();
    current?.ctrl.abort();
  };
}
