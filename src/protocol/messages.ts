/**
 * Messages between the page (src/client) and the compute worker (src/worker).
 *
 * Types only: nothing of it exists at run time (a test checks). One discriminated union each way: requests `{ id, type }`, replies
 * `{ id, type }` with the id of the request they answer (`id: null` for events the worker
 * raises on its own, such as a lost GPU device). Only plain data crosses: numbers, strings,
 * plain objects, typed arrays, Blobs and ImageBitmaps (the latter two by structured clone or
 * transfer); never tensors or class instances.
 */
import type { Detection, FusionMetrics } from '../core/types';
import type { StrategyName } from '../core/strategies/types';
import type { FinetuneSpec } from '../core/strategies/registry';
import type { AspectPolicy, PipelineNotice } from '../core/pipeline';
import type { Media } from '../core/image/pairing';
import type { PairEvaluation, SetScoreName } from '../core/metrics/evaluation';
import type { Interval } from '../core/metrics/bootstrap';
import type { GpuAdapterSummary } from '../core/gpu-adapter';

export type { Detection, FinetuneSpec, FusionMetrics, GpuAdapterSummary, Interval, PairEvaluation, SetScoreName, StrategyName };
/** The nine fusion metrics, in the order every table and export uses. */

/** A TensorFlow.js backend the worker can run on. */
export type BackendName = 'webgpu' | 'wasm' | 'webgl' | 'cpu';
/** What the user asked for: a backend, or `auto` (WebGPU → WASM → WebGL → CPU). */
export type BackendChoice = BackendName | 'auto';

/** One backend the worker tried while choosing, and what happened. */
export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  /** Why it was taken or skipped, in words (e.g. "software adapter (SwiftShader)"). */
  note: string;
}

/** The backend in use and why it was chosen. */
export interface BackendInfo {
  name: BackendName;
  /** One sentence for the user: why this backend runs now. */
  reason: string;
  /** Backends tried in order, including the one chosen. */
  attempts: BackendAttempt[];
  /** Whether the user picked it (rather than `auto`). */
  forced: boolean;
  adapter?: GpuAdapterSummary;
  /** WASM details when on WASM. */
  wasm?: { simd: boolean; threads: number; crossOriginIsolated: boolean };
}

/** Where the worker reads an image from (a bitmap: a decoded video frame, copied on send). */
export type ImageSource =
  | { kind: 'url'; url: string; name: string }
  | { kind: 'blob'; blob: Blob; name: string }
  | { kind: 'bitmap'; bitmap: ImageBitmap; name: string };

/** State of one model after `init`. */
export interface ModelStatus {
  name: string;
  loaded: boolean;
  /** Parameter count when loaded. */
  params?: number;
  /** Why it is not loaded, or a short description. */
  note: string;
  /** The model card (`card.json`) as published, if any. */
  card?: Record<string, unknown>;
}

/** Phases reported by `progress` replies. */
export type ProgressPhase = 'backend' | 'download' | 'warmup' | 'decode' | 'fuse' | 'metrics' | 'adapt';

/** A notice attached to a result: something the user should know, not an error. */
export interface Notice {
  level: 'info' | 'warn';
  /** Stable code for tests and styling. */
  code: PipelineNotice['code'] | 'label-size' | 'label-unreadable' | 'no-weights';
  message: string;
}

/** Size in pixels. */
export interface Size {
  width: number;
  height: number;
}

/** Options of a `fuse` request. */
export interface FuseOptions {
  /** Longest side processed, in pixels; larger pairs are reduced (with a notice). */
  maxSide: number;
  /**
   * For a pair whose aspect ratios differ, what the person chose: stretch the visible image or
   * centre-crop it to the infrared aspect. Without a choice such a pair is refused
   * (`AspectMismatchError`) and held.
   */
  aspect?: Exclude<AspectPolicy, 'refuse'>;
}

/** Result of fusing one pair. Bitmaps are at the processed size (`width` × `height`). */
export interface FuseResult {
  resultId: string;
  width: number;
  height: number;
  /** Sizes of the files as read, before any resizing. */
  source: { ir: Size; vi: Size; label?: Size };
  fused: ImageBitmap;
  ir: ImageBitmap;
  vi: ImageBitmap;
  /** Predicted class index per pixel (row-major, `width*height`), or null without a segmenter. */
  seg: Uint8Array | null;
  /** Ground-truth class index per pixel when a label came with the pair. */
  label: Uint8Array | null;
  /** Detections in pixels of the processed image (all scores; the UI thresholds). */
  detections: Detection[];
  notices: Notice[];
  /** Wall times in milliseconds. */
  timings: { decode: number; pipeline: number; total: number };
  backend: BackendName;
}

/** Result of the `metrics` request: fusion metrics of a fused pair (docs/metrics.md). */
export interface MetricsResult {
  resultId: string;
  metrics: FusionMetrics;
  /** Mean IoU of the prediction against the pair's label, if it has one. */
  miou?: number;
  /** mAP@0.5 of the detections against `boxes` of the request, when given (and S is loaded). */
  map50?: number;
  /** The pair's share of a set's scores (for `setScores` over many results later). */
  evaluation: PairEvaluation;
  ms: number;
}

/** One matched pair from `pair`: indices into the request's `paths`. */
export interface PairedFiles {
  stem: string;
  /** Two images (and a label), or two videos. */
  media: Media;
  ir: number;
  vi: number;
  label?: number;
}

/** Result of the `pair` request. */
export interface PairingResult {
  pairs: PairedFiles[];
  unmatched: { path: string; reason: string }[];
}

/** Payload of `ready`: the worker is initialised and warmed up. */
export interface ReadyPayload {
  backend: BackendInfo;
  models: ModelStatus[];
  /** Segmentation class names (index = class id) and detection class names. */
  classes: { seg: string[]; det: string[] };
  /** Warm-up pass wall time, ms. */
  warmupMs: number;
}

// ---------------------------------------------------------------------------------------
// Requests (page → worker)

export interface InitRequest {
  id: number;
  type: 'init';
  backend: BackendChoice;
  /** Absolute URL of the folder holding `<name>/model.json` (ends with `/`). */
  modelBase: string;
  /** Warm-up input size (the size most pairs will have). */
  warmup: Size;
}
export interface SetBackendRequest {
  id: number;
  type: 'setBackend';
  backend: BackendChoice;
}
export interface PairRequest {
  id: number;
  type: 'pair';
  /** Relative paths (`webkitRelativePath` or the entry's full path). */
  paths: string[];
}
export interface FuseRequest {
  id: number;
  type: 'fuse';
  /** Names the result in the worker's cache (for `metrics` and `weightMap`); opaque to the worker. */
  resultId: string;
  ir: ImageSource;
  vi: ImageSource;
  label?: ImageSource;
  options: FuseOptions;
  /**
   * Fuse with these F weights (a fine-tuning run's; `key` names the run) instead of the
   * pretrained F; S stays the pretrained one.
   */
  fusionWeights?: ModelWeights & { key: string };
  /**
   * Another method's image in place of F's: a published network's (its weights loaded first with
   * `loadPeer`), or a fused image imported by the person (at the infrared image's size). S and the
   * metrics then score that image.
   */
  fusedBy?: FusedBy;
  /**
   * Score with this S (a run's S with heads adapted to its fused images, `adaptTask`; `key`
   * names it) instead of the pretrained S.
   */
  segdetWeights?: ModelWeights & { key: string };
}
/** Who fused a result that F did not: see {@link FuseRequest.fusedBy}. */
export type FusedBy = { kind: 'peer'; peer: string } | { kind: 'image'; image: ImageSource };

/** A published fusion network the worker can run (see `loadPeer`). */
export interface PeerInfo {
  id: string;
  label: string;
  citation: string;
  /** Multiply-adds of one 640×480 pair. */
  macs640: number;
}
/** Lists the published networks. */
export interface PeersRequest {
  id: number;
  type: 'peers';
}
/** Downloads (with progress, phase `download`) and builds a published network's weights, once. */
export interface LoadPeerRequest {
  id: number;
  type: 'loadPeer';
  peer: string;
}
/**
 * Adapts S's heads to one F's fused images of labelled pairs (task-adapted scoring): K steps of
 * the heads from the pretrained S, the same seed and crops for every F. Progress in phase `adapt`.
 */
export interface AdaptTaskRequest {
  id: number;
  type: 'adaptTask';
  /** The F whose images S adapts to (a run's); the pretrained F when absent. */
  fusionWeights?: ModelWeights;
  /** The labelled pairs (pairs without a label are left out). */
  pairs: TrainPairSource[];
  /** K. */
  steps: number;
}
/** Result of `adaptTask`: the whole adapted S (its heads moved, the rest as pretrained). */
export interface AdaptTaskResult {
  segdet: ModelWeights;
  steps: number;
  /** Names of the labelled pairs it adapted on. */
  pairNames: string[];
  seconds: number;
}
export interface MetricsRequest {
  id: number;
  type: 'metrics';
  /** A result fused earlier by this worker (kept in a small cache). */
  resultId: string;
  /** Ground-truth boxes `[x1,y1,x2,y2,cls]` in processed pixels: adds mAP@0.5 of the detections. */
  boxes?: [number, number, number, number, number][];
}
/** Test hooks (used by the browser tests, harmless otherwise). */
export interface DebugRequest {
  id: number;
  type: 'debug';
  /** `lose-device`: destroy the WebGPU device as if the GPU had been lost. */
  action: 'lose-device';
}
export interface CancelRequest {
  id: number;
  type: 'cancel';
  /** Id of the request to cancel. */
  target: number;
}


// ---------------------------------------------------------------------------------------
// Fine-tuning

/** One model's weights in the TensorFlow.js weights format: model.json object + one shard. */
export interface ModelWeights {
  /** The `model.json` object (format, weightsManifest with one shard path). */
  modelJson: Record<string, unknown>;
  /** The bytes of that one shard (`weights.bin`). */
  weightData: ArrayBuffer;
}

/** Weights of a run, by model name (`fusion` always; others when the strategy moved them). */
export type RunWeights = Partial<Record<RunModel, ModelWeights>>;


/** A training pair as the worker reads it. */
export interface TrainPairSource {
  pairId: string;
  name: string;
  ir: ImageSource;
  vi: ImageSource;
  label?: ImageSource;
  /** Ground-truth boxes `[x1,y1,x2,y2,cls]` in pixels of the IR image. */
  boxes?: [number, number, number, number, number][];
  /** Only shown as the preview, not trained on. */
  previewOnly?: boolean;
  /** The person's choice for a pair whose aspect ratios differ (see {@link FuseOptions}). */
  aspect?: FuseOptions['aspect'];
}

export interface TrainRequest {
  id: number;
  type: 'train';
  /** The fine-tune as the form holds it; the core checks and completes it. */
  spec: FinetuneSpec;
  /** Refresh the preview every this many steps (and at the end). */
  previewEvery: number;
  pairs: TrainPairSource[];
  /** The pair re-fused as the preview. */
  previewPairId: string;
}

/** Out of band, like `cancel`: pause, resume, or stop (finish early, keeping the result). */
export interface TrainControlRequest {
  id: number;
  type: 'trainControl';
  target: number;
  action: 'pause' | 'resume' | 'stop';
}

/** Checks weights against a model's parameter names and shapes. */
export interface CheckWeightsRequest {
  id: number;
  type: 'checkWeights';
  model: RunModel;
  weights: ModelWeights;
}

/** TDFusion's learned weight map `w_ir = softmax(G(IR, Y_vis))[0]` on a pair fused earlier. */
export interface WeightMapRequest {
  id: number;
  type: 'weightMap';
  /** A result fused earlier: its pair's IR and VI are the input. */
  resultId: string;
  /** G's weights (a `td` run's `lossGenerator`). */
  weights: ModelWeights;
}

/** Lists the fine-tuning strategies (the UI cannot import core). */
export interface StrategiesRequest {
  id: number;
  type: 'strategies';
}

/** What the worker holds: tensors (the backend's count) and its caches; a long session's check. */
export interface MemoryRequest {
  id: number;
  type: 'memory';
}

/** Set-level scores of pairs evaluated earlier (one run on a set), each with a bootstrap interval. */
export interface SetScoresRequest {
  id: number;
  type: 'setScores';
  evaluations: PairEvaluation[];
  /** Bootstrap resamples over the pairs (95 % percentile intervals). */
  resamples: number;
}

/** A strategy as the UI shows it (core `strategyInfo` plus the choices of string options). */
export interface StrategyInfoData {
  name: StrategyName;
  label: string;
  description: string;
  requires: string[];
  mayMove: string[];
  defaultOptions: Record<string, number | string | boolean>;
  /** A fine-tune with this strategy at every default: what the form starts from. */
  defaultSpec: FinetuneSpec;
  /** Whether its steps take a held-out batch (then the spec's held-out share applies). */
  usesHeldOut: boolean;
  /** Allowed values of string options. */
  choices: Record<string, string[]>;
  /** Closed ranges of bounded numeric options (the rest: ≥ 0). */
  bounds: Record<string, [number, number]>;
}

/** Where the task targets of a training pair came from; one fine-tune step as logged (NaN where rolled back). */
export type { LabelSource, LossPoint, RunModel } from '../core/runs/record';
import type { LabelSource, LossPoint, RunModel } from '../core/runs/record';

/** Result of `train`. */
export interface TrainResult {
  weights: RunWeights;
  /** Every step (thinned past a bound, see `boundHistory`). */
  history: LossPoint[];
  /** The spec as run: every default filled in. */
  spec: FinetuneSpec;
  moves: string[];
  /** Notes for the user: label sources, untrained modules, rollbacks. */
  notes: string[];
  labelSources: Record<string, LabelSource>;
  stopped: boolean;
  /** Steps taken (fewer than planned when stopped). */
  steps: number;
  seconds: number;
  backend: BackendName;
}

export type WorkerRequest =
  | InitRequest | SetBackendRequest | PairRequest | FuseRequest | MetricsRequest | DebugRequest
  | CancelRequest | TrainRequest | TrainControlRequest | CheckWeightsRequest | WeightMapRequest | StrategiesRequest
  | SetScoresRequest | MemoryRequest | PeersRequest | LoadPeerRequest | AdaptTaskRequest;

/** What each request type resolves to. */
export interface ResultMap {
  init: ReadyPayload;
  setBackend: ReadyPayload;
  pair: PairingResult;
  fuse: FuseResult;
  metrics: MetricsResult;
  debug: { ok: boolean };
  train: TrainResult;
  checkWeights: { ok: true; params: number };
  strategies: StrategyInfoData[];
  weightMap: { resultId: string; width: number; height: number; wIr: Float32Array };
  setScores: Record<SetScoreName, Interval>;
  memory: { numTensors: number; numBytes: number; cachedResults: number; runModels: number };
  peers: PeerInfo[];
  loadPeer: { peer: string; params: number; bytes: number };
  adaptTask: AdaptTaskResult;
}
export type ResultKind = keyof ResultMap;

// ---------------------------------------------------------------------------------------
// Replies (worker → page)

export interface ProgressReply {
  id: number;
  type: 'progress';
  phase: ProgressPhase;
  done: number;
  total: number;
  /** Optional detail, e.g. the model being downloaded. */
  label?: string;
}
/** The answer to a request of type `K` (`init` and `setBackend` answer when the worker is ready). */
export interface ResultReply<K extends ResultKind> {
  id: number;
  type: 'result';
  kind: K;
  payload: ResultMap[K];
}
/** Any request's answer: a union over the kinds, so `kind` narrows `payload`. */
export type AnyResultReply = { [K in ResultKind]: ResultReply<K> }[ResultKind];

export interface ErrorReply {
  id: number;
  type: 'error';
  error: { name: string; message: string };
}
export interface CancelledReply {
  id: number;
  type: 'cancelled';
}
/** Raised by the worker on its own (no request): e.g. the GPU device was lost, or a GPU kernel failed. */
export interface EventReply {
  id: null;
  type: 'event';
  event: 'device-lost' | 'reinitialised' | 'reinit-failed' | 'gpu-error';
  message: string;
  /** After `reinitialised`: the new state, as `ready` would carry it. */
  ready?: ReadyPayload;
}

/** Training progress, after every step (throttled to ten a second, last step always sent). */
export interface TrainProgressReply {
  id: number;
  type: 'trainProgress';
  step: number;
  total: number;
  /** Estimated seconds left (mean of the last steps). */
  etaS: number;
  /**
   * Median wall time of the last steps in ms (the first step, which builds the kernels, left out
   * once there are others); NaN before the first step.
   */
  msPerStep: number;
  /** Total loss and each term of the steps since the last message (one entry per step). */
  losses: LossPoint[];
  state: 'preparing' | 'running' | 'paused';
  /** A NaN-rollback or other note of a step, for the user. */
  note?: string;
  /** Per pair, where its task targets come from (first message after preparing). */
  labelSources?: Record<string, LabelSource>;
}
/** The preview pair re-fused with the current F. */
export interface TrainPreviewReply {
  id: number;
  type: 'trainPreview';
  step: number;
  pairId: string;
  fused: ImageBitmap;
}

export type WorkerReply =
  | AnyResultReply | ProgressReply | ErrorReply | CancelledReply | EventReply
  | TrainProgressReply | TrainPreviewReply;
