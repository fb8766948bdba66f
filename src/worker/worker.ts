/// <reference lib="webworker" />
/**
 * Compute worker entry: the only file that touches `self`.
 *
 * One job at a time, in arrival order (a queue); `cancel` is handled at once and sets a flag
 * the running job checks between stages, or drops a queued job. Progress is throttled to ten
 * messages a second (first and last always sent).
 */
import { pairFiles } from '../core/image/pairing';
import type {
  BackendChoice, BackendInfo, ProgressPhase, ReadyPayload, WorkerReply, WorkerRequest, InitRequest,
} from '../protocol/messages';
import { assertNever } from '../protocol/messages';
import { setDeviceLostHandler, startBackend, simulateDeviceLoss } from './backend';
import { CancelledError, Engine } from './engine';

declare const self: DedicatedWorkerGlobalScope;

type Job = Exclude<WorkerRequest, { type: 'cancel' }> | { id: -1; type: 'reinit'; reason: string };

const engine = new Engine();
const queue: Job[] = [];
const cancelled = new Set<number>();
let running: Job | null = null;
let lastInit: InitRequest | null = null;
let choice: BackendChoice = 'auto';
let backend: BackendInfo | null = null;

function post(msg: WorkerReply, transfer: Transferable[] = []): void {
  self.postMessage(msg, transfer);
}

function progressFor(id: number, phase: ProgressPhase): (done: number, total: number, label?: string) => void {
  let last = 0;
  return (done, total, label) => {
    const now = performance.now();
    if (done !== 0 && done < total && now - last < 100) return;
    last = now;
    if (id >= 0) post({ id, type: 'progress', phase, done, total, ...(label ? { label } : {}) });
  };
}

/** Starts the backend, builds the models on it and warms them up. */
async function bringUp(id: number, isCancelled: () => boolean): Promise<ReadyPayload> {
  if (!lastInit) throw new Error('init has not been called');
  post({ id, type: 'progress', phase: 'backend', done: 0, total: 1, label: 'choosing a backend' });
  engine.dispose();
  backend = await startBackend(choice);
  post({ id, type: 'progress', phase: 'backend', done: 1, total: 1, label: backend.name });
  await engine.download(lastInit.modelBase, progressFor(id, 'download'), isCancelled);
  engine.build();
  const warmupMs = await engine.warmup(lastInit.warmup, progressFor(id, 'warmup'), isCancelled);
  return { backend, models: engine.modelStatus(), classes: engine.classes, warmupMs };
}

async function runJob(job: Job): Promise<void> {
  const isCancelled = () => cancelled.has(job.id);
  switch (job.type) {
    case 'init': {
      lastInit = job;
      choice = job.backend;
      const payload = await bringUp(job.id, isCancelled);
      post({ id: job.id, type: 'ready', payload });
      return;
    }
    case 'setBackend': {
      choice = job.backend;
      const payload = await bringUp(job.id, isCancelled);
      post({ id: job.id, type: 'ready', payload });
      return;
    }
    case 'reinit': {
      try {
        const payload = await bringUp(-1, () => false);
        post({ id: null, type: 'event', event: 'reinitialised', message: `${job.reason} Re-initialised on ${payload.backend.name}.`, backend: payload.backend });
      } catch (e) {
        post({ id: null, type: 'event', event: 'reinit-failed', message: `${job.reason} Re-initialisation failed: ${(e as Error).message}` });
      }
      return;
    }
    case 'pair': {
      const res = pairFiles(job.paths);
      const index = new Map(job.paths.map((p, i) => [p, i]));
      post({
        id: job.id, type: 'result', kind: 'pair',
        payload: {
          pairs: res.pairs.map((p) => ({
            stem: p.stem,
            ir: index.get(p.ir)!,
            vi: index.get(p.vi)!,
            ...(p.label !== undefined ? { label: index.get(p.label)! } : {}),
          })),
          unmatched: res.unmatched,
        },
      });
      return;
    }
    case 'fuse': {
      if (!backend) throw new Error('worker not initialised');
      const { result, transfer } = await engine.fuse(job, backend.name, progressFor(job.id, 'fuse'), isCancelled);
      post({ id: job.id, type: 'result', kind: 'fuse', payload: result }, transfer);
      return;
    }
    case 'metrics': {
      post({ id: job.id, type: 'progress', phase: 'metrics', done: 0, total: 1 });
      const payload = engine.metrics(job.pairId);
      post({ id: job.id, type: 'result', kind: 'metrics', payload });
      return;
    }
    case 'debug': {
      const ok = job.action === 'lose-device' ? simulateDeviceLoss() : false;
      post({ id: job.id, type: 'result', kind: 'debug', payload: { ok } });
      return;
    }
    default:
      assertNever(job);
  }
}

async function pump(): Promise<void> {
  if (running) return;
  while (queue.length) {
    const job = queue.shift()!;
    if (cancelled.delete(job.id) && job.id >= 0) {
      post({ id: job.id, type: 'cancelled' });
      continue;
    }
    running = job;
    try {
      await runJob(job);
    } catch (e) {
      const err = e as Error;
      if (job.id >= 0) {
        if (err instanceof CancelledError || cancelled.has(job.id)) post({ id: job.id, type: 'cancelled' });
        else post({ id: job.id, type: 'error', error: { name: err?.name ?? 'Error', message: err?.message ?? String(e) } });
      }
    } finally {
      cancelled.delete(job.id);
      running = null;
    }
  }
}

setDeviceLostHandler((message) => {
  post({ id: null, type: 'event', event: 'device-lost', message });
  // Re-initialise before anything else still queued.
  queue.unshift({ id: -1, type: 'reinit', reason: `${message}.` });
  void pump();
});

self.onmessage = (e: MessageEvent<WorkerRequest>) => {
  const req = e.data;
  if (req.type === 'cancel') {
    const i = queue.findIndex((j) => j.id === req.target);
    if (i >= 0) {
      queue.splice(i, 1);
      post({ id: req.target, type: 'cancelled' });
    } else if (running && running.id === req.target) {
      cancelled.add(req.target);
    }
    return;
  }
  queue.push(req);
  void pump();
};
