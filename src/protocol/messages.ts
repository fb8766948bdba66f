/**
 * Messages between the page (src/client) and the compute worker (src/worker).
 *
 * Types only (plus the `assertNever` guard). One discriminated union each way: requests `{ id, type }`, replies
 * `{ id, type }` with the id of the request they answer (`id: null` for events the worker
 * raises on its own, such as a lost GPU device). Only plain data crosses: numbers, strings,
 * plain objects, typed arrays, Blobs and ImageBitmaps (the latter two by structured clone or
 * transfer); never tensors or class instances.
 */
import type { Detection, FusionMetrics } from '../core/types';

export type { Detection, FusionMetrics };

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

/** The WebGPU adapter seen by the worker. */
export interface GpuAdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for a software adapter (`isFallbackAdapter`, or SwiftShader named in the info). */
  isSoftware: boolean;
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

/** Where the worker reads an image from. */
export type ImageSource =
  | { kind: 'url'; url: string; name: string }
  | { kind: 'blob'; blob: Blob; name: string };

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
export type ProgressPhase = 'backend' | 'download' | 'warmup' | 'decode' | 'fuse' | 'metrics';

/** A notice attached to a result: something the user should know, not an error. */
export interface Notice {
  level: 'info' | 'warn';
  /** Stable code for tests and styling. */
  code: 'resized' | 'downscaled' | 'grey-vi' | 'label-size' | 'label-unreadable' | 'no-weights' | 'pipeline';
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
}

/** Result of fusing one pair. Bitmaps are at the processed size (`width` × `height`). */
export interface FuseResult {
  pairId: string;
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

/** Result of the `metrics` request: fusion metrics of a fused pair (DESIGN §5). */
export interface MetricsResult {
  pairId: string;
  metrics: FusionMetrics;
  /** Mean IoU of the prediction against the pair's label, if it has one. */
  miou?: number;
  ms: number;
}

/** One matched pair from `pair`: indices into the request's `paths`. */
export interface PairedFiles {
  stem: string;
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
  pairId: string;
  ir: ImageSource;
  vi: ImageSource;
  label?: ImageSource;
  options: FuseOptions;
}
export interface MetricsRequest {
  id: number;
  type: 'metrics';
  /** A pair fused earlier by this worker (kept in a small cache). */
  pairId: string;
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

export type WorkerRequest =
  | InitRequest | SetBackendRequest | PairRequest | FuseRequest | MetricsRequest | DebugRequest
  | CancelRequest;

/** What each request type resolves to. */
export interface ResultMap {
  init: ReadyPayload;
  setBackend: ReadyPayload;
  pair: PairingResult;
  fuse: FuseResult;
  metrics: MetricsResult;
  debug: { ok: boolean };
}
export type ResultKind = keyof ResultMap;

// ---------------------------------------------------------------------------------------
// Replies (worker → page)

export interface ReadyReply {
  id: number;
  type: 'ready';
  payload: ReadyPayload;
}
export interface ProgressReply {
  id: number;
  type: 'progress';
  phase: ProgressPhase;
  done: number;
  total: number;
  /** Optional detail, e.g. the model being downloaded. */
  label?: string;
}
export interface ResultReply<K extends Exclude<ResultKind, 'init' | 'setBackend'> = Exclude<ResultKind, 'init' | 'setBackend'>> {
  id: number;
  type: 'result';
  kind: K;
  payload: ResultMap[K];
}
export interface ErrorReply {
  id: number;
  type: 'error';
  error: { name: string; message: string };
}
export interface CancelledReply {
  id: number;
  type: 'cancelled';
}
/** Raised by the worker on its own (no request): e.g. the GPU device was lost. */
export interface EventReply {
  id: null;
  type: 'event';
  event: 'device-lost' | 'reinitialised' | 'reinit-failed';
  message: string;
  /** After `reinitialised`: the new state, as `ready` would carry it. */
  ready?: ReadyPayload;
}

export type WorkerReply =
  | ReadyReply | ProgressReply | ResultReply | ErrorReply | CancelledReply | EventReply;

/** Exhaustiveness check for `switch` on message types. */
export function assertNever(x: never): never {
  throw new Error(`unexpected message: ${JSON.stringify(x)}`);
}
