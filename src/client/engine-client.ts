/**
 * Main-thread side of the worker bridge: owns the Worker, numbers requests, routes replies,
 * and turns each request into a Promise with progress callbacks and an AbortSignal.
 *
 * Abort posts `cancel`; the promise rejects (AbortError) only when the worker answers
 * `cancelled`. If it does not answer within `cancelGraceMs` (e.g. stuck in a long WASM call),
 * the worker is terminated and restarted with the last `init`, squoosh-style.
 */
import type {
  BackendChoice, EventReply, FuseOptions, ImageSource, ModelWeights, ProgressPhase, ReadyPayload, ResultMap,
  Size, TrainConfig, TrainPairSource, TrainPreviewReply, TrainProgressReply, TrainResult, WorkerReply, WorkerRequest,
} from '../protocol/messages';
import { assertNever } from '../protocol/messages';

/** Progress of a request: `done` of `total` in a phase. */
export interface Progress {
  phase: ProgressPhase;
  done: number;
  total: number;
  label?: string;
}

/** Options every client call takes. */
export interface CallOptions {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

/** Options of {@link EngineClient.train}. */
export interface TrainCallOptions {
  signal?: AbortSignal;
  onTrainProgress?: (p: Omit<TrainProgressReply, 'id' | 'type'>) => void;
  /** The preview bitmap belongs to the callee (close it when replaced). */
  onPreview?: (p: Omit<TrainPreviewReply, 'id' | 'type'>) => void;
}

/** A running fine-tune: its result, and pause / resume / stop (abort the signal to discard it). */
export interface TrainHandle {
  result: Promise<TrainResult>;
  control(action: 'pause' | 'resume' | 'stop'): void;
}

/** Events the client raises on its own. */
export type ClientEvent =
  | EventReply
  | { id: null; type: 'event'; event: 'restarted'; message: string; ready?: ReadyPayload };

/**
 * A call that was pending (queued or running) when the worker was restarted, and that the
 * caller had not aborted: it did not run to its end and may be sent again.
 */
export class WorkerRestartedError extends Error {
  override name = 'WorkerRestartedError';
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  /** The caller aborted it (a restart then rejects it as aborted, not as restarted). */
  aborted: boolean;
  onProgress?: (p: Progress) => void;
  onTrain?: (msg: TrainProgressReply | TrainPreviewReply) => void;
  cancelTimer?: ReturnType<typeof setTimeout>;
  cleanup: () => void;
}

type RequestBody<T extends WorkerRequest['type']> = Omit<Extract<WorkerRequest, { type: T }>, 'id'>;

function abortError(): DOMException {
  return new DOMException('The operation was aborted.', 'AbortError');
}

/** Typed, cancellable access to the compute worker. */
export class EngineClient {
  #makeWorker: () => Worker;
  #worker: Worker;
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #listeners = new Set<(e: ClientEvent) => void>();
  #lastInit: RequestBody<'init'> | null = null;
  #cancelGraceMs: number;

  constructor(makeWorker: () => Worker, opts: { cancelGraceMs?: number } = {}) {
    this.#makeWorker = makeWorker;
    this.#cancelGraceMs = opts.cancelGraceMs ?? 10_000;
    this.#worker = this.#spawn();
  }

  #spawn(): Worker {
    const w = this.#makeWorker();
    w.onmessage = (e: MessageEvent<WorkerReply>) => this.#onReply(e.data);
    w.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      const err = new Error(`worker failed: ${e.message || 'script error'}`);
      for (const [id, p] of this.#pending) {
        p.cleanup();
        p.reject(err);
        this.#pending.delete(id);
      }
      this.#emit({ id: null, type: 'event', event: 'reinit-failed', message: err.message });
    };
    return w;
  }

  #emit(e: ClientEvent): void {
    for (const l of this.#listeners) l(e);
  }

  #onReply(msg: WorkerReply): void {
    if (msg.type === 'event') {
      this.#emit(msg);
      return;
    }
    const p = this.#pending.get(msg.id);
    if (!p) return;
    switch (msg.type) {
      case 'progress':
        p.onProgress?.({ phase: msg.phase, done: msg.done, total: msg.total, label: msg.label });
        return;
      case 'trainProgress':
      case 'trainPreview':
        if (p.onTrain) p.onTrain(msg);
        else if (msg.type === 'trainPreview') msg.fused.close();
        return;
      case 'ready':
        this.#settle(msg.id);
        p.resolve(msg.payload);
        return;
      case 'result':
        this.#settle(msg.id);
        p.resolve(msg.payload);
        return;
      case 'error': {
        this.#settle(msg.id);
        const err = new Error(msg.error.message);
        err.name = msg.error.name;
        p.reject(err);
        return;
      }
      case 'cancelled':
        this.#settle(msg.id);
        p.reject(abortError());
        return;
      default:
        assertNever(msg);
    }
  }

  #settle(id: number): void {
    const p = this.#pending.get(id);
    if (!p) return;
    p.cleanup();
    this.#pending.delete(id);
  }

  #call<T extends keyof ResultMap & WorkerRequest['type']>(
    body: RequestBody<T>,
    opts: CallOptions & { onTrain?: Pending['onTrain']; onId?: (id: number) => void } = {},
  ): Promise<ResultMap[T]> {
    const { signal, onProgress, onTrain } = opts;
    if (signal?.aborted) return Promise.reject(abortError());
    const id = this.#nextId++;
    return new Promise<ResultMap[T]>((resolve, reject) => {
      const onAbort = () => {
        const p = this.#pending.get(id);
        if (!p) return;
        p.aborted = true;
        this.#worker.postMessage({ id: this.#nextId++, type: 'cancel', target: id } satisfies WorkerRequest);
        p.cancelTimer = setTimeout(() => {
          if (this.#pending.has(id)) this.restart(`request ${id} did not stop within ${this.#cancelGraceMs} ms`);
        }, this.#cancelGraceMs);
      };
      const pending: Pending = {
        resolve: resolve as (v: unknown) => void,
        reject,
        aborted: false,
        onProgress,
        onTrain,
        cleanup: () => {
          signal?.removeEventListener('abort', onAbort);
          if (pending.cancelTimer) clearTimeout(pending.cancelTimer);
        },
      };
      this.#pending.set(id, pending);
      opts.onId?.(id);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#worker.postMessage({ ...body, id } as unknown as WorkerRequest);
    });
  }

  /** Chooses a backend, downloads weights and warms up. Resolves when the worker is ready. */
  init(backend: BackendChoice, modelBase: string, warmup: Size, opts?: CallOptions): Promise<ReadyPayload> {
    const body: RequestBody<'init'> = { type: 'init', backend, modelBase, warmup };
    this.#lastInit = body;
    return this.#call<'init'>(body, opts);
  }

  /** Switches backend (`auto` re-runs the automatic choice); models are rebuilt and warmed up. */
  setBackend(backend: BackendChoice, opts?: CallOptions): Promise<ReadyPayload> {
    if (this.#lastInit) this.#lastInit = { ...this.#lastInit, backend };
    return this.#call<'setBackend'>({ type: 'setBackend', backend }, opts);
  }

  /** Pairs file paths by stem (core `pairFiles`, run in the worker). */
  pair(paths: string[], opts?: CallOptions): Promise<ResultMap['pair']> {
    return this.#call<'pair'>({ type: 'pair', paths }, opts);
  }

  /** Decodes, fuses, segments and detects one pair. */
  fuse(pairId: string, ir: ImageSource, vi: ImageSource, label: ImageSource | undefined, options: FuseOptions, opts?: CallOptions): Promise<ResultMap['fuse']> {
    return this.#call<'fuse'>({ type: 'fuse', pairId, ir, vi, ...(label ? { label } : {}), options }, opts);
  }

  /** Fusion metrics of a pair fused earlier. */
  metrics(pairId: string, opts?: CallOptions): Promise<ResultMap['metrics']> {
    return this.#call<'metrics'>({ type: 'metrics', pairId }, opts);
  }

  /**
   * Fuses a pair with a run's F weights (S stays the pretrained one). `key` names the run
   * (the worker keeps a few runs' parameters built); `cacheId` keys the result for `metrics`.
   */
  fuseWithRun(cacheId: string, ir: ImageSource, vi: ImageSource, label: ImageSource | undefined, options: FuseOptions,
    run: { key: string; weights: ModelWeights }, opts?: CallOptions): Promise<ResultMap['fuse']> {
    const fusionWeights = { key: run.key, modelJson: run.weights.modelJson, weightData: run.weights.weightData };
    return this.#call<'fuse'>({ type: 'fuse', pairId: cacheId, ir, vi, ...(label ? { label } : {}), options, fusionWeights }, opts);
  }

  /** Fusion metrics (+ mIoU, + mAP@0.5 against `boxes`) of a result fused earlier. */
  metricsWithBoxes(pairId: string, boxes: [number, number, number, number, number][] | undefined, opts?: CallOptions): Promise<ResultMap['metrics']> {
    return this.#call<'metrics'>({ type: 'metrics', pairId, ...(boxes ? { boxes } : {}) }, opts);
  }

  /** Starts a fine-tune. Abort the signal to discard it; `control('stop')` ends it early with a result. */
  train(config: TrainConfig, pairs: TrainPairSource[], previewPairId: string, opts: TrainCallOptions = {}): TrainHandle {
    let id = -1;
    const result = this.#call<'train'>({ type: 'train', config, pairs, previewPairId }, {
      signal: opts.signal,
      onId: (i) => { id = i; },
      onTrain: (msg) => {
        if (msg.type === 'trainProgress') {
          const { id: _i, type: _t, ...rest } = msg;
          opts.onTrainProgress?.(rest);
        } else if (opts.onPreview) {
          const { id: _i, type: _t, ...rest } = msg;
          opts.onPreview(rest);
        } else {
          msg.fused.close();
        }
      },
    });
    return {
      result,
      control: (action) => {
        if (id >= 0) this.#worker.postMessage({ id: this.#nextId++, type: 'trainControl', target: id, action } satisfies WorkerRequest);
      },
    };
  }

  /** The fine-tuning strategies with their default options. */
  strategies(opts?: CallOptions): Promise<ResultMap['strategies']> {
    return this.#call<'strategies'>({ type: 'strategies' }, opts);
  }

  /** Validates weights against a model's parameter names and shapes (rejects with the problems). */
  checkWeights(model: 'fusion' | 'discriminator' | 'segdet' | 'lossGenerator', weights: ModelWeights, opts?: CallOptions): Promise<ResultMap['checkWeights']> {
    return this.#call<'checkWeights'>({ type: 'checkWeights', model, weights }, opts);
  }

  /** TDFusion's learned IR weight map on a pair fused earlier (values in [0,1], row-major). */
  weightMap(pairId: string, weights: ModelWeights, opts?: CallOptions): Promise<ResultMap['weightMap']> {
    return this.#call<'weightMap'>({ type: 'weightMap', pairId, weights }, opts);
  }

  /** Test hook: simulate a lost GPU device. Resolves `{ ok: false }` when not on WebGPU. */
  debugLoseDevice(): Promise<ResultMap['debug']> {
    return this.#call<'debug'>({ type: 'debug', action: 'lose-device' });
  }

  /** Subscribes to worker events (device lost, re-initialised, restarted). @returns unsubscribe. */
  onEvent(listener: (e: ClientEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Terminates the worker, rejects everything pending (AbortError for calls the caller
   * aborted, WorkerRestartedError for the others), starts a fresh worker and re-sends the last
   * `init` (its result arrives as a `restarted` event).
   */
  restart(reason: string): void {
    this.#worker.terminate();
    for (const [id, p] of this.#pending) {
      p.cleanup();
      p.reject(p.aborted ? abortError() : new WorkerRestartedError(`the worker was restarted (${reason}) before this call finished`));
      this.#pending.delete(id);
    }
    this.#worker = this.#spawn();
    const init = this.#lastInit;
    if (!init) return;
    this.#call<'init'>(init).then(
      (ready) => this.#emit({ id: null, type: 'event', event: 'restarted', message: `Worker restarted (${reason}); running on ${ready.backend.name}.`, ready }),
      (e: Error) => this.#emit({ id: null, type: 'event', event: 'reinit-failed', message: `Worker restart failed: ${e.message}` }),
    );
  }

  /** Terminates the worker and rejects pending calls. */
  terminate(): void {
    this.#worker.terminate();
    for (const [id, p] of this.#pending) {
      p.cleanup();
      p.reject(abortError());
      this.#pending.delete(id);
    }
    this.#listeners.clear();
  }
}
