/**
 * Main-thread side of the worker bridge: owns the Worker, numbers requests, routes replies,
 * and turns each request into a Promise with progress callbacks and an AbortSignal.
 *
 * Abort posts `cancel`; the promise rejects (AbortError) only when the worker answers
 * `cancelled`. If it does not answer within `cancelGraceMs` (e.g. stuck in a long WASM call),
 * the worker is terminated and restarted with the last `init`, squoosh-style.
 */
import type {
  AnyResultReply, BackendChoice, PairEvaluation, RunModel, EventReply, FuseOptions, FusedBy, ImageSource, ModelWeights, ProgressPhase, ReadyPayload, ResultKind,
  FinetuneSpec, ResultMap, Size, TrainPairSource, TrainPreviewReply, TrainProgressReply, TrainResult, WorkerReply, WorkerRequest,
} from '../protocol/messages';

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

/** Options of {@link WorkerClient.train}. */
export interface TrainCallOptions {
  signal?: AbortSignal;
  onTrainProgress?: (p: TrainProgressReply) => void;
  /** The preview bitmap belongs to the callee (close it when replaced). */
  onPreview?: (p: TrainPreviewReply) => void;
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
  /** Resolves the call with the reply's payload (rejects a reply of another kind). */
  settle: (reply: AnyResultReply) => void;
  reject: (e: unknown) => void;
  /** The caller aborted it (a restart then rejects it as aborted, not as restarted). */
  aborted: boolean;
  onProgress?: (p: Progress) => void;
  onTrain?: (msg: TrainProgressReply | TrainPreviewReply) => void;
  cancelTimer?: ReturnType<typeof setTimeout>;
  cleanup: () => void;
}

type Request<T extends WorkerRequest['type']> = Extract<WorkerRequest, { type: T }>;
type RequestBody<T extends WorkerRequest['type']> = Omit<Request<T>, 'id'>;

function abortError(): DOMException {
  return new DOMException('The operation was aborted.', 'AbortError');
}

/** Typed, cancellable access to the compute worker. */
export class WorkerClient {
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
      case 'result':
        this.#settle(msg.id);
        p.settle(msg);
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
        throw new Error(`unexpected message: ${JSON.stringify(msg satisfies never)}`);
    }
  }

  #settle(id: number): void {
    const p = this.#pending.get(id);
    if (!p) return;
    p.cleanup();
    this.#pending.delete(id);
  }

  /** Sends the request `make(id)` builds and resolves with the payload of its answer. */
  #call<T extends ResultKind & WorkerRequest['type']>(
    kind: T,
    make: (id: number) => Request<T>,
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
        settle: (reply) => {
          // A reply to a request of type `kind` carries that kind's payload.
          if (reply.kind === kind) resolve(reply.payload as ResultMap[T]);
          else reject(new Error(`the worker answered a ${kind} request with a ${reply.kind} result`));
        },
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
      this.#worker.postMessage(make(id) satisfies WorkerRequest);
    });
  }

  /** Chooses a backend, downloads weights and warms up. Resolves when the worker is ready. */
  init(backend: BackendChoice, modelBase: string, warmup: Size, opts?: CallOptions): Promise<ReadyPayload> {
    const body: RequestBody<'init'> = { type: 'init', backend, modelBase, warmup };
    this.#lastInit = body;
    return this.#call('init', (id) => ({ ...body, id }), opts);
  }

  /** Switches backend (`auto` re-runs the automatic choice); models are rebuilt and warmed up. */
  setBackend(backend: BackendChoice, opts?: CallOptions): Promise<ReadyPayload> {
    if (this.#lastInit) this.#lastInit = { ...this.#lastInit, backend };
    return this.#call('setBackend', (id) => ({ id, type: 'setBackend', backend }), opts);
  }

  /** Pairs file paths by stem (core `pairFiles`, run in the worker). */
  pair(paths: string[], opts?: CallOptions): Promise<ResultMap['pair']> {
    return this.#call('pair', (id) => ({ id, type: 'pair', paths }), opts);
  }

  /**
   * Decodes, fuses, segments and detects one pair, with the pretrained F or a run's
   * (`fusionWeights`; S stays the pretrained one). `resultId` names the result in the worker's
   * cache, for `metrics` and `weightMap` later.
   */
  fuse(resultId: string, ir: ImageSource, vi: ImageSource, label: ImageSource | undefined, options: FuseOptions,
    opts: CallOptions & { fusionWeights?: ModelWeights & { key: string }; segdetWeights?: ModelWeights & { key: string }; fusedBy?: FusedBy } = {}): Promise<ResultMap['fuse']> {
    const { fusionWeights, segdetWeights, fusedBy, ...call } = opts;
    return this.#call('fuse', (id) => ({
      id, type: 'fuse', resultId, ir, vi, ...(label ? { label } : {}), options,
      ...(fusionWeights ? { fusionWeights } : {}), ...(segdetWeights ? { segdetWeights } : {}), ...(fusedBy ? { fusedBy } : {}),
    }), call);
  }

  /** Adapts S's heads to an F's fused images of labelled pairs (the pretrained F without weights); progress in phase `adapt`. */
  adaptTask(fusionWeights: ModelWeights | undefined, pairs: TrainPairSource[], steps: number, opts?: CallOptions): Promise<ResultMap['adaptTask']> {
    return this.#call('adaptTask', (id) => ({ id, type: 'adaptTask', pairs, steps, ...(fusionWeights ? { fusionWeights } : {}) }), opts);
  }

  /** The published fusion networks the worker can run. */
  peers(opts?: CallOptions): Promise<ResultMap['peers']> {
    return this.#call('peers', (id) => ({ id, type: 'peers' }), opts);
  }

  /** Downloads and builds a published network's weights (once; progress in phase `download`). */
  loadPeer(peer: string, opts?: CallOptions): Promise<ResultMap['loadPeer']> {
    return this.#call('loadPeer', (id) => ({ id, type: 'loadPeer', peer }), opts);
  }

  /** Fusion metrics (+ mIoU against the label, + mAP@0.5 against `boxes`) of a result fused earlier. */
  metrics(resultId: string, boxes?: [number, number, number, number, number][], opts?: CallOptions): Promise<ResultMap['metrics']> {
    return this.#call('metrics', (id) => ({ id, type: 'metrics', resultId, ...(boxes ? { boxes } : {}) }), opts);
  }

  /** Starts a fine-tune. Abort the signal to discard it; `control('stop')` ends it early with a result. */
  train(spec: FinetuneSpec, previewEvery: number, pairs: TrainPairSource[], previewPairId: string, opts: TrainCallOptions = {}): TrainHandle {
    let id = -1;
    const result = this.#call('train', (i) => ({ id: i, type: 'train', spec, previewEvery, pairs, previewPairId }), {
      signal: opts.signal,
      onId: (i) => { id = i; },
      onTrain: (msg) => {
        if (msg.type === 'trainProgress') opts.onTrainProgress?.(msg);
        else if (opts.onPreview) opts.onPreview(msg);
        else msg.fused.close();
      },
    });
    return {
      result,
      control: (action) => {
        if (id >= 0) this.#worker.postMessage({ id: this.#nextId++, type: 'trainControl', target: id, action } satisfies WorkerRequest);
      },
    };
  }

  /** Tensors alive in the worker and its cache sizes (a long session's memory check). */
  memory(opts?: CallOptions): Promise<ResultMap['memory']> {
    return this.#call('memory', (id) => ({ id, type: 'memory' }), opts);
  }

  /** The fine-tuning strategies with their default options. */
  strategies(opts?: CallOptions): Promise<ResultMap['strategies']> {
    return this.#call('strategies', (id) => ({ id, type: 'strategies' }), opts);
  }

  /** Validates weights against a model's parameter names and shapes (rejects with the problems). */
  checkWeights(model: RunModel, weights: ModelWeights, opts?: CallOptions): Promise<ResultMap['checkWeights']> {
    return this.#call('checkWeights', (id) => ({ id, type: 'checkWeights', model, weights }), opts);
  }

  /** Set-level scores of a run's evaluated pairs, each with a 95 % bootstrap interval over the pairs. */
  setScores(evaluations: PairEvaluation[], resamples: number, opts?: CallOptions): Promise<ResultMap['setScores']> {
    return this.#call('setScores', (id) => ({ id, type: 'setScores', evaluations, resamples }), opts);
  }

  /** TDFusion's learned IR weight map on the pair of a result fused earlier (values in [0,1], row-major). */
  weightMap(resultId: string, weights: ModelWeights, opts?: CallOptions): Promise<ResultMap['weightMap']> {
    return this.#call('weightMap', (id) => ({ id, type: 'weightMap', resultId, weights }), opts);
  }

  /** Test hook: simulate a lost GPU device. Resolves `{ ok: false }` when not on WebGPU. */
  debugLoseDevice(): Promise<ResultMap['debug']> {
    return this.#call('debug', (id) => ({ id, type: 'debug', action: 'lose-device' }));
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
    this.#call('init', (id) => ({ ...init, id })).then(
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
