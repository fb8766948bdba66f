/// <reference lib="webworker" />
/**
 * Compute worker entry: the only file that touches `self`.
 *
 * One job at a time, in arrival order (a queue); `cancel` is handled at once and sets a flag
 * the running job checks between stages, or drops a queued job. Progress is throttled to ten
 * messages a second (first and last always sent).
 */
import { pairFiles } from '../core/image/pairing';
import { setScoreIntervals } from '../core/metrics/evaluation';
import type {
  BackendChoice, BackendInfo, InitRequest, ProgressPhase, ReadyPayload, Size, WorkerReply, WorkerRequest,
} from '../protocol/messages';
import { lostUnderFailure, setDeviceLostHandler, setGpuErrorHandler, startBackend, simulateDeviceLoss } from './backend';
import { CancelledError, Engine } from './engine';
import { runTraining, strategyList, type TrainControl } from './trainer';
import { runAdaptTask } from './adapt-task';
import { networkOf } from '../core/runs/record';

declare const self: DedicatedWorkerGlobalScope;

/** What is queued: every request but the out-of-band ones (cancel, trainControl, debug). */
type Job = Exclude<WorkerRequest, { type: 'cancel' } | { type: 'trainControl' } | { type: 'debug' }> | { id: -1; type: 'reinit'; reason: string };

/** Pause/stop flags of training jobs, by request id (set out of band by `trainControl`). */
const trainControls = new Map<number, TrainControl>();

const engine = new Engine();
const queue: Job[] = [];
const cancelled = new Set<number>();
let lastInit: InitRequest | null = null;
let choice: BackendChoice = 'auto';
let backend: BackendInfo | null = null;

/**
 * The job in progress. A job is abandoned when the GPU device is lost under it: its promise
 * may never settle (GPU readbacks of a destroyed device can hang), so the queue moves on and
 * anything the old job posts later is dropped.
 */
interface Slot {
  job: Job;
  abandoned: boolean;
  /** The reply that stands in for the job's own if the device is lost under it (a fine-tune's last checkpoint). */
  rescue?: (lostMessage: string) => [WorkerReply, Transferable[]];
  /** Settles when the job's own code has stopped. */
  finished?: Promise<unknown>;
}
let current: Slot | null = null;
/** The job abandoned at the last device loss, until its own code has stopped. */
let abandonedJob: Promise<unknown> | null = null;

/**
 * How long re-initialisation waits for an abandoned job to stop (it sees itself cancelled at its
 * next check). Longer than any step between two checks on a working device; a job stuck on a
 * readback of the lost device never stops, and re-initialisation goes ahead after this.
 */
const ABANDONED_JOB_GRACE_MS = 10_000;

function post(msg: WorkerReply, transfer: Transferable[] = []): void {
  self.postMessage(msg, transfer);
}

function progressFor(slot: Slot, phase: ProgressPhase): (done: number, total: number, label?: string) => void {
  let last = 0;
  const id = slot.job.id;
  return (done, total, label) => {
    const now = performance.now();
    if (done !== 0 && done < total && now - last < 100) return;
    last = now;
    if (id >= 0 && !slot.abandoned) post({ id, type: 'progress', phase, done, total, ...(label ? { label } : {}) });
  };
}

/** Warm-up size: the expected pair size, or a small one where every pixel is expensive. */
function warmupSize(info: BackendInfo, wanted: Size): Size {
  const slow = info.name === 'cpu' || (info.name === 'webgpu' && info.adapter?.isSoftware);
  return slow ? { width: 64, height: 64 } : wanted;
}

/** Starts the backend, builds the models on it and warms them up. */
async function bringUp(slot: Slot, isCancelled: () => boolean): Promise<ReadyPayload> {
  if (!lastInit) throw new Error('init has not been called');
  const step = progressFor(slot, 'backend');
  step(0, 1, 'choosing a backend');
  engine.dispose();
  backend = await startBackend(choice);
  step(1, 1, backend.name);
  await engine.download(lastInit.modelBase, progressFor(slot, 'download'), isCancelled);
  engine.build();
  const warmupMs = await engine.warmup(warmupSize(backend, lastInit.warmup), progressFor(slot, 'warmup'), isCancelled);
  return { backend, models: engine.modelStatus(), classes: engine.classes, warmupMs };
}

/** Runs one job; returns its reply (and transfer list), or null when it posts nothing. */
async function runJob(slot: Slot): Promise<[WorkerReply, Transferable[]] | null> {
  const job = slot.job;
  const isCancelled = () => cancelled.has(job.id) || slot.abandoned;
  switch (job.type) {
    case 'init':
      lastInit = job;
      choice = job.backend;
      return [{ id: job.id, type: 'result', kind: 'init', payload: await bringUp(slot, isCancelled) }, []];
    case 'setBackend':
      choice = job.backend;
      return [{ id: job.id, type: 'result', kind: 'setBackend', payload: await bringUp(slot, isCancelled) }, []];
    case 'reinit':
      try {
        // Let the abandoned job stop first: code of it still running would read and free
        // buffers of the new device's backend under the jobs that follow.
        if (abandonedJob) {
          await Promise.race([abandonedJob, new Promise((r) => setTimeout(r, ABANDONED_JOB_GRACE_MS))]);
          abandonedJob = null;
        }
        const payload = await bringUp(slot, () => false);
        return [{ id: null, type: 'event', event: 'reinitialised', message: `${job.reason} Re-initialised on ${payload.backend.name}.`, ready: payload }, []];
      } catch (e) {
        return [{ id: null, type: 'event', event: 'reinit-failed', message: `${job.reason} Re-initialisation failed: ${(e as Error).message}` }, []];
      }
    case 'pair': {
      const res = pairFiles(job.paths, { videos: true });
      const index = new Map(job.paths.map((p, i) => [p, i]));
      return [{
        id: job.id, type: 'result', kind: 'pair',
        payload: {
          pairs: res.pairs.map((p) => ({
            stem: p.stem,
            media: p.media,
            ir: index.get(p.ir)!,
            vi: index.get(p.vi)!,
            ...(p.label !== undefined ? { label: index.get(p.label)! } : {}),
          })),
          unmatched: res.unmatched,
        },
      }, []];
    }
    case 'fuse': {
      if (!backend) throw new Error('worker not initialised');
      const { result, transfer } = await engine.fuse(job, backend.name, progressFor(slot, 'fuse'), isCancelled);
      return [{ id: job.id, type: 'result', kind: 'fuse', payload: result }, transfer];
    }
    case 'metrics':
      progressFor(slot, 'metrics')(0, 1);
      return [{ id: job.id, type: 'result', kind: 'metrics', payload: await engine.metrics(job.resultId, job.boxes, isCancelled) }, []];
    case 'train': {
      if (!backend) throw new Error('worker not initialised');
      const control: TrainControl = { paused: false, stop: false, isCancelled };
      trainControls.set(job.id, control);
      try {
        const { result, transfer } = await runTraining(job, engine, backend.name, control, {
          progress: (p) => {
            if (!slot.abandoned) post({ id: job.id, type: 'trainProgress', ...p });
          },
          preview: (step, pairId, fused) => {
            if (!slot.abandoned) post({ id: job.id, type: 'trainPreview', step, pairId, fused }, [fused]);
          },
          checkpoint: ({ result, transfer }) => {
            slot.rescue = (lost) => [{
              id: job.id, type: 'result', kind: 'train',
              payload: { ...result, notes: [...result.notes, `${lost.replace(/\.+$/, '')}: the run keeps the ${result.steps} step(s) taken before its last checkpoint.`] },
            }, transfer];
          },
        });
        return [{ id: job.id, type: 'result', kind: 'train', payload: result }, transfer];
      } finally {
        trainControls.delete(job.id);
      }
    }
    case 'memory':
      return [{ id: job.id, type: 'result', kind: 'memory', payload: engine.memory() }, []];
    case 'adaptTask': {
      if (!backend) throw new Error('worker not initialised');
      const { result, transfer } = await runAdaptTask(job, engine, progressFor(slot, 'adapt'), isCancelled);
      return [{ id: job.id, type: 'result', kind: 'adaptTask', payload: result }, transfer];
    }
    case 'peers':
      return [{ id: job.id, type: 'result', kind: 'peers', payload: engine.peers() }, []];
    case 'loadPeer':
      return [{ id: job.id, type: 'result', kind: 'loadPeer', payload: await engine.loadPeer(job.peer, progressFor(slot, 'download'), isCancelled) }, []];
    case 'strategies':
      return [{ id: job.id, type: 'result', kind: 'strategies', payload: strategyList() }, []];
    case 'setScores':
      return [{ id: job.id, type: 'result', kind: 'setScores', payload: setScoreIntervals(job.evaluations, { resamples: job.resamples }) }, []];
    case 'checkWeights':
      return [{ id: job.id, type: 'result', kind: 'checkWeights', payload: engine.checkWeights(networkOf(job.model), job.weights) }, []];
    case 'weightMap': {
      const payload = await engine.weightMap(job.resultId, job.weights);
      return [{ id: job.id, type: 'result', kind: 'weightMap', payload }, [payload.wIr.buffer]];
    }
    default:
      throw new Error(`unexpected message: ${JSON.stringify(job satisfies never)}`);
  }
}

async function pump(): Promise<void> {
  if (current) return;
  while (queue.length) {
    const job = queue.shift()!;
    if (cancelled.delete(job.id) && job.id >= 0) {
      post({ id: job.id, type: 'cancelled' });
      continue;
    }
    const slot: Slot = { job, abandoned: false };
    current = slot;
    try {
      const running = runJob(slot);
      slot.finished = running.catch(() => undefined);
      const reply = await running;
      if (reply && !slot.abandoned) post(reply[0], reply[1]);
    } catch (e) {
      const err = e as Error;
      // A GPU failure may be the device going away: let the lost handler take over then.
      if (backend?.name === 'webgpu' && !slot.abandoned) await lostUnderFailure(err);
      if (job.id >= 0 && !slot.abandoned) {
        if (err instanceof CancelledError || cancelled.has(job.id)) post({ id: job.id, type: 'cancelled' });
        else post({ id: job.id, type: 'error', error: { name: err?.name ?? 'Error', message: err?.message ?? String(e) } });
      }
    } finally {
      cancelled.delete(job.id);
    }
    // An abandoned job's pump is superseded by the one started when it was abandoned.
    if (current !== slot) return;
    current = null;
  }
}

// A failing kernel reports once per submit: pass on the first few, then say how many more.
const GPU_ERRORS_SHOWN = 3;
let gpuErrors = 0;
setGpuErrorHandler((message) => {
  gpuErrors++;
  if (gpuErrors > GPU_ERRORS_SHOWN && gpuErrors % 100 !== 0) return;
  const first = message.split('\n')[0].trim();
  post({ id: null, type: 'event', event: 'gpu-error', message: gpuErrors > GPU_ERRORS_SHOWN ? `${gpuErrors} WebGPU errors so far; the last: ${first}` : `WebGPU error: ${first}` });
});

setDeviceLostHandler((message) => {
  post({ id: null, type: 'event', event: 'device-lost', message });
  // The job in progress cannot finish on a lost device: fail it now and move on.
  const stuck = current;
  if (stuck) {
    stuck.abandoned = true;
    abandonedJob = stuck.finished ?? null;
    if (stuck.rescue) post(...stuck.rescue(message));
    else if (stuck.job.id >= 0) post({ id: stuck.job.id, type: 'error', error: { name: 'DeviceLostError', message } });
    current = null;
  }
  // Re-initialise before anything else still queued.
  queue.unshift({ id: -1, type: 'reinit', reason: `${message.replace(/\.+$/, '')}.` });
  void pump();
});

self.onmessage = (e: MessageEvent<WorkerRequest>) => {
  const req = e.data;
  if (req.type === 'debug') {
    // Out of band, so a test can lose the device while a job is running.
    const ok = req.action === 'lose-device' ? simulateDeviceLoss() : false;
    post({ id: req.id, type: 'result', kind: 'debug', payload: { ok } });
    return;
  }
  if (req.type === 'trainControl') {
    const c = trainControls.get(req.target);
    if (c) {
      if (req.action === 'pause') c.paused = true;
      else if (req.action === 'resume') c.paused = false;
      else c.stop = true;
    }
    return;
  }
  if (req.type === 'cancel') {
    const i = queue.findIndex((j) => j.id === req.target);
    if (i >= 0) {
      queue.splice(i, 1);
      post({ id: req.target, type: 'cancelled' });
    } else if (current && current.job.id === req.target) {
      cancelled.add(req.target);
    }
    return;
  }
  queue.push(req);
  void pump();
};
