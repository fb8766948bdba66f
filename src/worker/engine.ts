/**
 * The worker's compute engine: downloaded weights, the fuse + segment + detect pipeline on the
 * current backend, warm-up, and a small cache of fused pairs for metrics.
 *
 * Models are worker singletons rebuilt from the cached weight bytes whenever the backend
 * changes (a lost GPU device takes its tensors with it).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Detection, Params, RawImage } from '../core/types';
import { imageToY } from '../core/image/color';
import { planesToTensor } from '../core/image/tensor';
import { MODELS, type ModelName } from '../core/models/registry';
import { countParams, disposeParams } from '../core/models/model-def';
import { DET_CLASSES, SEG_CLASSES } from '../core/types';
import { resizeLabels } from '../core/image/resize';
import { evaluatePairStepwise, scoreSet, type PairEvaluationInput } from '../core/metrics/evaluation';
import type {
  BackendName, FuseRequest, FuseResult, MetricsResult, ModelStatus, ModelWeights, Notice, ResultMap, Size,
} from '../protocol/messages';
import { bitmapToRaw, decodeBitmap, rawToBitmap, readLabel, UnreadableImageError } from './decode';
import { downloadModels, type MissingModel, type ModelFiles } from './model-files';
import { buildPipeline, loadModel, PIPELINE_MODELS, type BuiltPipeline } from './pipeline-adapter';
import { isPeerId, PEER_IDS, PEERS, peerFolder, peerParamSpecs, runPeer, type PeerId, type PeerParams } from '../core/models/peers';
import { decodeWeights } from '../core/weights/io';
import type { PeerInfo } from '../protocol/messages';
import type { PipelineRunOptions } from '../core/pipeline';

/** Models downloaded besides the pipeline's: fine-tuning strategies use D and G. */
export const TRAINING_MODELS = [MODELS.discriminator.name, MODELS.lossGenerator.name];

/** Builds a model's parameters from run weights (new variables, owned by the caller). @throws WeightsError. */
export function paramsFromWeights(model: ModelName, w: ModelWeights): Params {
  return loadModel(MODELS[model], { name: model, modelJson: w.modelJson as never, shards: [w.weightData] });
}

/** Reports progress of a phase. */
export type ProgressFn = (done: number, total: number, label?: string) => void;

/** Thrown when a job notices its cancel flag. */
export class CancelledError extends Error {
  override name = 'CancelledError';
}

/** A fused result as the evaluation reads it (processed IR/VI, fused Y, maps, detections). */
type CachedPair = Omit<PairEvaluationInput, 'stem' | 'boxes' | 'metrics'>;

/** Results kept for `metrics` and `weightMap`: the UI scores each result right after fusing it. */
const CACHE_SIZE = 12;
/** Runs' parameter sets kept built (F, or an adapted S, by model and run key). */
const RUN_PARAMS_CACHE = 4;

export class Engine {
  #files: ModelFiles[] = [];
  #missing: MissingModel[] = [];
  #downloaded = false;
  #pipeline: BuiltPipeline | null = null;
  /** Recent results by the client's result id, for `metrics` and `weightMap` (most recent last). */
  #cache = new Map<string, CachedPair>();
  #runParams = new Map<string, Params>();
  /** Published networks' weight bytes, downloaded when first asked for (kept across backends). */
  #peerFiles = new Map<PeerId, ModelFiles>();
  /** Their parameters on the current backend. */
  #peerParams = new Map<PeerId, PeerParams>();
  #modelBase = '';

  /** Class names shown by the UI (index = class id). */
  readonly classes = { seg: [...SEG_CLASSES] as string[], det: [...DET_CLASSES] as string[] };

  /** Downloads weights once; later calls reuse the bytes. */
  async download(base: string, onProgress: ProgressFn, isCancelled: () => boolean): Promise<void> {
    this.#modelBase = base;
    if (this.#downloaded) return;
    const { models, missing } = await downloadModels(base, [...PIPELINE_MODELS, ...TRAINING_MODELS], onProgress, isCancelled);
    this.#files = models;
    this.#missing = missing;
    this.#downloaded = true;
  }

  /** Builds the models on the current backend from the cached bytes (disposing old ones). */
  build(): void {
    this.dispose();
    this.#pipeline = buildPipeline(this.#files, this.#missing);
  }

  /** Frees the models' tensors (safe after the backend is gone). */
  dispose(): void {
    try {
      this.#pipeline?.dispose();
      for (const p of this.#runParams.values()) disposeParams(p);
      for (const p of this.#peerParams.values()) tf.dispose(Object.values(p));
    } catch { /* tensors of a lost device */ }
    this.#runParams.clear();
    this.#peerParams.clear();
    this.#pipeline = null;
  }

  /** The built pipeline. @throws before `build`. */
  get pipeline(): BuiltPipeline {
    if (!this.#pipeline) throw new Error('engine not built');
    return this.#pipeline;
  }

  /** Downloaded weight bytes of a model, if it was found. */
  files(name: string): ModelFiles | undefined {
    return this.#files.find((f) => f.name === name);
  }

  /** A run's F (or its adapted S) parameters, built once per model and key. */
  #runModel(model: 'fusion' | 'segdet', w: ModelWeights & { key: string }): Params {
    const key = `${model}:${w.key}`;
    let p = this.#runParams.get(key);
    if (p) {
      this.#runParams.delete(key);
      this.#runParams.set(key, p);
      return p;
    }
    p = paramsFromWeights(model, w);
    this.#runParams.set(key, p);
    while (this.#runParams.size > RUN_PARAMS_CACHE) {
      const oldest = this.#runParams.keys().next().value as string;
      disposeParams(this.#runParams.get(oldest)!);
      this.#runParams.delete(oldest);
    }
    return p;
  }

  /** The published networks this worker can run. */
  peers(): PeerInfo[] {
    return PEER_IDS.map((id) => ({ id, label: PEERS[id].label, citation: PEERS[id].citation, macs640: PEERS[id].macs(480, 640) }));
  }

  /**
   * A published network's parameters: its weights downloaded once (with progress), built on the
   * current backend once. @throws naming the network when they cannot be had.
   */
  async loadPeer(peer: string, onProgress: ProgressFn, isCancelled: () => boolean): Promise<{ peer: string; params: number; bytes: number }> {
    if (!isPeerId(peer)) throw new Error(`no published network called '${peer}'`);
    const def = PEERS[peer];
    let files = this.#peerFiles.get(peer);
    if (!files) {
      const { models, missing } = await downloadModels(this.#modelBase, [peerFolder(peer)], onProgress, isCancelled);
      if (!models.length) throw new Error(`${def.label}: ${missing[0]?.reason ?? 'weights not found'}`);
      files = models[0];
      this.#peerFiles.set(peer, files);
    }
    let params = this.#peerParams.get(peer);
    if (!params) {
      try {
        params = decodeWeights(files.modelJson, files.shards, peerParamSpecs(def.convs));
      } catch (e) {
        this.#peerFiles.delete(peer);
        throw new Error(`${def.label}: weights rejected: ${(e as Error).message}`);
      }
      this.#peerParams.set(peer, params);
    }
    const count = Object.values(params).reduce((a, t) => a + t.size, 0);
    return { peer, params: count, bytes: files.shards.reduce((a, b) => a + b.byteLength, 0) };
  }

  /** Validates weights against a model's names and shapes. @throws WeightsError naming the problems. */
  checkWeights(model: ModelName, w: ModelWeights): { ok: true; params: number } {
    const p = paramsFromWeights(model, w);
    const n = countParams(p);
    disposeParams(p);
    return { ok: true, params: n };
  }

  /** TDFusion's IR weight map `softmax(G(IR, Y_vis))[..., 0]` on a cached pair, values in [0,1]. */
  async weightMap(resultId: string, w: ModelWeights): Promise<{ resultId: string; width: number; height: number; wIr: Float32Array }> {
    const c = this.#cache.get(resultId);
    if (!c) throw new Error(`result ${resultId} is not in the worker's cache; fuse it again`);
    const g = paramsFromWeights('lossGenerator', w);
    const { width, height } = c;
    const stride = MODELS.lossGenerator.stride;
    const ph = Math.ceil(height / stride) * stride, pw = Math.ceil(width / stride) * stride;
    try {
      const t = tf.tidy(() => {
        const x = planesToTensor([imageToY(c.ir), imageToY(c.vi)], height, width);
        const xp = tf.pad(x, [[0, 0], [0, ph - height], [0, pw - width], [0, 0]], 0) as tf.Tensor4D;
        const logits = MODELS.lossGenerator.apply(g, xp) as tf.Tensor4D;
        return tf.slice(tf.softmax(logits, -1), [0, 0, 0, 0], [1, height, width, 1]);
      });
      const wIr = new Float32Array((await t.data()) as Float32Array);
      t.dispose();
      return { resultId, width, height, wIr };
    } finally {
      disposeParams(g);
    }
  }

  /** Model states for the `ready` reply. */
  modelStatus(): ModelStatus[] {
    return this.#pipeline?.status ?? [];
  }

  /**
   * Runs the pipeline once on a synthetic pair so shaders compile and WASM/WebGPU
   * allocate before the first real pair. @returns wall time of the passes, ms.
   */
  async warmup(size: Size, onProgress: ProgressFn, isCancelled: () => boolean): Promise<number> {
    const p = this.#pipeline;
    if (!p) throw new Error('engine not built');
    const t0 = performance.now();
    const { width, height } = size;
    const ir: RawImage = { width, height, channels: 1, data: new Uint8Array(width * height) };
    const vi: RawImage = { width, height, channels: 3, data: new Uint8Array(width * height * 3) };
    for (let i = 0; i < width * height; i++) {
      const v = (i * 37 + (i >> 7) * 11) & 255;
      ir.data[i] = v;
      vi.data[i * 3] = 255 - v;
      vi.data[i * 3 + 1] = (v * 3) & 255;
      vi.data[i * 3 + 2] = v >> 1;
    }
    onProgress(0, 1, 'shader warm-up');
    if (isCancelled()) throw new CancelledError('cancelled');
    await p.run(ir, vi, { maxSide: 2048 });
    onProgress(1, 1, 'shader warm-up');
    return performance.now() - t0;
  }

  /**
   * Decodes, fuses, segments and detects one pair.
   * @returns the result and the bitmaps to transfer.
   * @throws UnreadableImageError when the IR or VI image cannot be read.
   */
  async fuse(
    req: FuseRequest,
    backend: BackendName,
    onProgress: ProgressFn,
    isCancelled: () => boolean,
  ): Promise<{ result: FuseResult; transfer: Transferable[] }> {
    const p = this.#pipeline;
    if (!p) throw new Error('engine not built');
    const t0 = performance.now();
    const notices: Notice[] = [];
    const check = () => {
      if (isCancelled()) throw new CancelledError('cancelled');
    };

    onProgress(0, 3, 'decode');
    const [irBmp, viBmp] = await Promise.all([decodeBitmap(req.ir), decodeBitmap(req.vi)]);
    const source = { ir: { width: irBmp.width, height: irBmp.height }, vi: { width: viBmp.width, height: viBmp.height } };
    const checked = req.label ? await readLabel(req.label, source.ir) : null;
    if (checked && !('indices' in checked)) notices.push({ level: 'warn', code: checked.code, message: checked.message });
    const labelFull = checked && 'indices' in checked ? checked.indices : null;
    check();
    // Full-resolution pixels as decoded; resizing (VI to IR, max side) is the core pipeline's,
    // exactly as in the CLI.
    const irRaw = bitmapToRaw(irBmp, source.ir, false);
    const viRaw = bitmapToRaw(viBmp, source.vi, false);
    irBmp.close();
    viBmp.close();
    const tDecode = performance.now();
    onProgress(1, 3, 'fuse');
    check();

    const swap = {
      ...(req.fusionWeights ? { fusion: this.#runModel('fusion', req.fusionWeights) } : {}),
      ...(req.segdetWeights ? { segdet: this.#runModel('segdet', req.segdetWeights) } : {}),
    };
    const by = req.fusedBy ? await this.#fusedBy(req.fusedBy, onProgress, isCancelled) : undefined;
    const out = swap.fusion || swap.segdet || by ? await p.runWith(swap, irRaw, viRaw, req.options, by) : await p.run(irRaw, viRaw, req.options);
    notices.push(...out.notices);
    const tPipe = performance.now();
    const size: Size = { width: out.width, height: out.height };
    const label = labelFull ? resizeLabels(labelFull, source.ir.width, source.ir.height, size.width, size.height) : null;
    onProgress(2, 3, 'encode');
    check();

    const [fusedBmp, irOut, viOut] = await Promise.all([rawToBitmap(out.rgb), rawToBitmap(out.ir), rawToBitmap(out.vi)]);
    this.#remember(req.resultId, { ir: out.ir, vi: out.vi, fusedY: out.fusedY, width: size.width, height: size.height, seg: out.seg, label, detections: out.detections });
    onProgress(3, 3, 'done');

    const seg = out.seg ? out.seg.slice() : null;
    const labelCopy = label ? label.slice() : null;
    const result: FuseResult = {
      resultId: req.resultId,
      width: size.width,
      height: size.height,
      source,
      fused: fusedBmp,
      ir: irOut,
      vi: viOut,
      seg,
      label: labelCopy,
      detections: out.detections,
      notices,
      timings: { decode: tDecode - t0, pipeline: tPipe - tDecode, total: performance.now() - t0 },
      backend,
    };
    const transfer: Transferable[] = [fusedBmp, irOut, viOut];
    if (seg) transfer.push(seg.buffer);
    if (labelCopy) transfer.push(labelCopy.buffer);
    return { result, transfer };
  }

  /** Another method's image for the pipeline: an imported one, or a published network's (its weights loaded first). */
  async #fusedBy(by: NonNullable<FuseRequest['fusedBy']>, onProgress: ProgressFn, isCancelled: () => boolean): Promise<Pick<PipelineRunOptions, 'fused' | 'fuser'>> {
    if (by.kind === 'image') {
      const bmp = await decodeBitmap(by.image);
      const fused = bitmapToRaw(bmp, { width: bmp.width, height: bmp.height }, false);
      bmp.close();
      return { fused };
    }
    await this.loadPeer(by.peer, onProgress, isCancelled);
    const peer = by.peer as PeerId;
    const params = this.#peerParams.get(peer)!;
    return { fuser: (a, b) => runPeer(PEERS[peer], params, a, b) };
  }

  /**
   * Fusion metrics (and mIoU against the label) of a pair fused earlier. Between metrics it
   * yields to the worker's message loop, so a cancel stops it within one metric.
   */
  async metrics(resultId: string, boxes: [number, number, number, number, number][] | undefined, isCancelled: () => boolean): Promise<MetricsResult> {
    const c = this.#cache.get(resultId);
    if (!c) throw new Error(`result ${resultId} is not in the worker's cache; fuse it again`);
    const t0 = performance.now();
    // The CLI's evaluation, on one pair: the same numbers as its metrics.csv and task metrics.
    const e = await evaluatePairStepwise({ ...c, stem: resultId, boxes: boxes && c.seg ? boxes : null }, async () => {
      await new Promise((r) => setTimeout(r, 0));
      if (isCancelled()) throw new CancelledError('cancelled');
    });
    const s = scoreSet([e]);
    const res: MetricsResult = { resultId, metrics: s.meanMetrics!, evaluation: e, ms: 0 };
    if (s.segmentation) res.miou = s.segmentation.mIoU;
    if (s.detection) res.map50 = s.detection.mAP50;
    res.ms = performance.now() - t0;
    return res;
  }

  /** Tensors alive on the backend and the sizes of this engine's caches. */
  memory(): ResultMap['memory'] {
    const m = tf.memory();
    return { numTensors: m.numTensors, numBytes: m.numBytes, cachedResults: this.#cache.size, runModels: this.#runParams.size };
  }

  #remember(id: string, entry: CachedPair): void {
    this.#cache.delete(id);
    this.#cache.set(id, entry);
    while (this.#cache.size > CACHE_SIZE) this.#cache.delete(this.#cache.keys().next().value as string);
  }
}

export { UnreadableImageError };
export type { Detection };
