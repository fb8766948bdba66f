/**
 * The benchmark's case list, shared by Node (`src/cli/bench.ts`) and the browser bench
 * (`src/bench/browser-worker.ts`) so both time exactly the same work. Imports the core only:
 * the caller registers tfjs backends, gradients and chained ops, and picks the backend.
 *
 * Cases: the raw-convolution ceiling; F, S and G forward at 640×480; the full pipeline (fuse +
 * segment + detect, including the CPU-side colour conversion and box decoding); one fine-tune
 * step (batch 4, 128×128 crops) per strategy; each published network (peer) at 640×480.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MODELS, type ModelName } from '../core/models/registry';
import { disposeParams, type ModelDef } from '../core/models/model-def';
import { createPipeline } from '../core/pipeline';
import { Rng } from '../core/nn/random';
import { depthwiseConv2d } from '../core/nn/depthwise';
import { makeVariable } from '../core/nn/layers';
import { splitYCbCr } from '../core/image/color';
import { planesToTensor } from '../core/image/tensor';
import { loadWeightsInto } from '../core/weights/io';
import type { TrainPair } from '../core/train/batch';
import { drawStepBatches } from '../core/train/finetune-session';
import { createStrategy, type StrategyName } from '../core/strategies/registry';
import type { Params } from '../core/types';
import { PEER_IDS, PEERS, peerParamSpecs, runPeer, type PeerId, type PeerParams } from '../core/models/peers';
import { syntheticPair, syntheticTrainPair, type SyntheticPair } from './scene';

/** Sizes of the work a run times. */
export interface CaseSizes {
  /** Frame of the inference cases. */
  frame: { width: number; height: number };
  /** Fine-tune step: batch of square crops. */
  batch: number;
  crop: number;
  /** The raw-convolution ceiling: one k×k cin→cout 'same' conv on a width×height map. */
  rawConv: { width: number; height: number; cin: number; cout: number; k: number };
}

/**
 * The bench's full sizes: an MSRS frame (640×480); fine-tune steps of batch 4 × 128×128 crops;
 * the ceiling is one 3×3 32→32 conv (bias + ReLU, as the models run them) on a 320×240 map,
 * 0.71 G multiply-adds: 32 channels is the width most of F's and S's work runs at, and one call
 * is large enough to keep every backend busy.
 */
export const FULL_SIZES: CaseSizes = {
  frame: { width: 640, height: 480 },
  batch: 4, crop: 128,
  rawConv: { width: 320, height: 240, cin: 32, cout: 32, k: 3 },
};

/**
 * Reduced sizes for a software WebGPU adapter (SwiftShader), measured here at 400–700× slower
 * than WASM: F alone takes ~90 s per 640×480 frame there, so the full sizes would take an hour
 * for two runs per case. A quarter of each side (1/16 of the pixels; S's stride 32 still
 * divides it) keeps the numbers comparable in G MAC/s. Labels carry the sizes.
 */
export const REDUCED_SIZES: CaseSizes = {
  frame: { width: 160, height: 128 },
  batch: 4, crop: 32,
  rawConv: { width: 80, height: 64, cin: 32, cout: 32, k: 3 },
};

/** The sizes a run policy names. */
export function caseSizes(which: 'full' | 'reduced'): CaseSizes {
  return which === 'reduced' ? REDUCED_SIZES : FULL_SIZES;
}

/** Case ids, in run order. */
export const CASE_IDS = ['conv', 'dw', 'dwgrad', 'F', 'S', 'G', 'pipeline', 'pipeline-s75', 'fixed', 'bdl', 'td', 'bdl-pooled-c', 'td-two-scales', ...PEER_IDS] as const;
export type CaseId = (typeof CASE_IDS)[number];

/** What a case is, for grouping in the table and choosing iteration counts. */
export type CaseKind = 'ceiling' | 'forward' | 'pipeline' | 'train';

/** A model's trained weights as bytes (model.json parsed, plus its shards in manifest order). */
export interface WeightBytes {
  modelJson: unknown;
  shards: ArrayBuffer[];
}

/** Reads a model's trained weights; null when there are none (then seeded init is used). */
export type WeightSource = (name: ModelName) => Promise<WeightBytes | null>;

/** Seed of the parameter init when no trained weights exist. */
export const INIT_SEED = 1;

/**
 * Parameters for the cases: trained weights where `models/<name>/` has them, seeded init
 * otherwise (timing does not depend on the values, but detection decoding does slightly).
 */
export class ModelStore {
  readonly #bytes = new Map<ModelName, WeightBytes>();
  /** Per model: 'trained', 'seeded init', or 'seeded init (…why the trained ones were not used)'. */
  readonly weights: Partial<Record<ModelName, string>> = {};

  /** Reads and test-loads the weights of `names` (bad weights fall back to seeded init, with the reason). */
  async prepare(source: WeightSource, names: readonly ModelName[]): Promise<void> {
    for (const name of names) {
      let bytes: WeightBytes | null = null;
      try {
        bytes = await source(name);
      } catch (e) {
        this.weights[name] = `seeded init (weights unreadable: ${(e as Error).message})`;
        continue;
      }
      if (!bytes) {
        this.weights[name] = 'seeded init';
        continue;
      }
      const def = MODELS[name] as ModelDef<unknown>;
      const p = def.init(INIT_SEED);
      try {
        loadWeightsInto(p, bytes.modelJson, bytes.shards);
        this.#bytes.set(name, bytes);
        this.weights[name] = 'trained';
      } catch (e) {
        this.weights[name] = `seeded init (trained weights rejected: ${(e as Error).message})`;
      } finally {
        disposeParams(p);
      }
    }
  }

  /** New variables for `name` (the caller disposes them with `disposeParams`). */
  params(name: ModelName): Params {
    const p = (MODELS[name] as ModelDef<unknown>).init(INIT_SEED);
    const b = this.#bytes.get(name);
    if (b) loadWeightsInto(p, b.modelJson, b.shards);
    return p;
  }
}

/** What a case's setup gets. */
export interface CaseEnv {
  models: ModelStore;
  scene: SyntheticPair;
  sizes: CaseSizes;
}

/** A set-up case: call `run` repeatedly, then `dispose`. */
export interface CaseInstance {
  /** Multiply-adds of one `run` from the models' `macs()`; undefined when only a profile can count them. */
  macs?: number;
  /** One timed unit of work; resolves when its results are read back (a sync point on every backend). */
  run(): Promise<void>;
  dispose(): void;
}

/** One benchmark case. */
export interface BenchCase {
  id: CaseId;
  label: string;
  kind: CaseKind;
  /** Set when the case cannot run in this build; `setup` is then never called. */
  unavailable?: string;
  /** Extra text for the report (what exactly is timed). */
  note?: string;
  setup(env: CaseEnv): Promise<CaseInstance>;
}

/** Creates the scene shared by all cases of a run. */
export function makeEnv(models: ModelStore, sizes: CaseSizes): CaseEnv {
  return { models, sizes, scene: syntheticPair(sizes.frame.width, sizes.frame.height) };
}

/**
 * Waits for `outs` to be computed by reading one element of each: a sync point on every backend
 * (GPU backends run the whole graph behind it) without timing a large download.
 */
async function settle(outs: tf.Tensor[]): Promise<void> {
  for (const o of outs) {
    const one = tf.tidy(() => tf.slice(tf.reshape(o, [-1]), 0, 1));
    try {
      await one.data();
    } finally {
      one.dispose();
    }
  }
}

const sizeLabel = (w: number, h: number): string => `${w}×${h}`;

function rawConvCase(sizes: CaseSizes): BenchCase {
  const { height: h, width: w, cin, cout, k } = sizes.rawConv;
  return {
    id: 'conv', kind: 'ceiling',
    label: `raw conv ${k}×${k} ${cin}→${cout} ${sizeLabel(w, h)}`,
    note: 'tf.fused.conv2d (bias + ReLU): the practical ceiling',
    async setup() {
      const rng = new Rng(11);
      const x = tf.tensor4d(rng.uniformArray(h * w * cin), [1, h, w, cin]);
      const f = tf.tensor4d(rng.normalArray(k * k * cin * cout, 0, 0.1), [k, k, cin, cout]);
      const b = tf.tensor1d(new Float32Array(cout));
      return {
        macs: h * w * k * k * cin * cout,
        async run() {
          const y = tf.fused.conv2d({ x, filter: f, bias: b, strides: 1, pad: 'same', activation: 'relu' });
          try {
            await settle([y]);
          } finally {
            y.dispose();
          }
        },
        dispose: () => tf.dispose([x, f, b]),
      };
    },
  };
}

/**
 * S's trainable depthwise conv (`nn/depthwise.ts`) on the shape of its detection heads: 3×3 over
 * 128 channels at ¼ of the frame. `dw` is the forward pass; `dwgrad` adds both gradients (input
 * and kernel, from forward kernels: WASM has no depthwise backprop kernels), so the two rows give
 * the cost of a training step against a forward pass.
 */
function depthwiseCase(id: 'dw' | 'dwgrad', sizes: CaseSizes): BenchCase {
  const h = Math.ceil(sizes.frame.height / 4), w = Math.ceil(sizes.frame.width / 4), c = 128, k = 3;
  const grad = id === 'dwgrad';
  return {
    id, kind: grad ? 'train' : 'forward',
    label: `depthwise ${k}×${k} ×${c} ${sizeLabel(w, h)}${grad ? ' fwd+bwd' : ' fwd'}`,
    note: grad ? 'nn/depthwise.ts: forward, dx and dW (own gradients)' : 'nn/depthwise.ts forward (bias + ReLU)',
    async setup() {
      const rng = new Rng(12);
      const x = makeVariable(rng.uniformArray(h * w * c), [1, h, w, c]);
      const f = makeVariable(rng.normalArray(k * k * c, 0, 0.3), [k, k, c, 1]);
      const b = makeVariable(new Float32Array(c), [c]);
      const r = tf.tensor4d(rng.normalArray(h * w * c), [1, h, w, c]);
      const loss = (xx: tf.Tensor) => tf.sum(tf.mul(depthwiseConv2d(xx as tf.Tensor4D, f as tf.Tensor4D, b as tf.Tensor1D, { activation: 'relu' }), r));
      return {
        macs: h * w * k * k * c,
        async run() {
          const out = grad
            ? (() => { const g = tf.variableGrads(() => loss(x) as tf.Scalar, [x, f, b]); return [g.value, ...Object.values(g.grads)]; })()
            : [depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, b as tf.Tensor1D, { activation: 'relu' })];
          try {
            await settle(out);
          } finally {
            tf.dispose(out);
          }
        },
        dispose: () => tf.dispose([x, f, b, r]),
      };
    },
  };
}

/** Forward pass of one model on the scene (F and G: [IR, Y_vis]; S: RGB). */
function forwardCase(id: 'F' | 'S' | 'G', name: ModelName, what: string, sizes: CaseSizes): BenchCase {
  const { width, height } = sizes.frame;
  return {
    id, kind: 'forward', label: `${id} ${what} fwd ${sizeLabel(width, height)}`,
    async setup(env) {
      const def = MODELS[name] as ModelDef<tf.Tensor4D | Record<string, tf.Tensor4D>>;
      const params = env.models.params(name);
      const { ir, vi } = env.scene;
      const irY = Float32Array.from(ir.data, (v) => v / 255);
      const viY = splitYCbCr(vi).y;
      // S sees a fused RGB; the visible image in its own colours stands in for it.
      const rgb = [0, 1, 2].map((c) => Float32Array.from({ length: width * height }, (_, i) => vi.data[i * vi.channels + Math.min(c, vi.channels - 1)] / 255));
      const x = planesToTensor(name === 'segdet' ? rgb : [irY, viY], height, width);
      return {
        macs: def.macs(height, width),
        async run() {
          const out = def.apply(params, x);
          const outs = out instanceof tf.Tensor ? [out] : Object.values(out);
          try {
            await settle(outs);
          } finally {
            tf.dispose(outs);
          }
        },
        dispose() {
          x.dispose();
          disposeParams(params);
        },
      };
    },
  };
}

/** The whole pipeline; with `taskScale` below 1, the what-if of S on a smaller copy (`--task-scale`). */
function pipelineCase(sizes: CaseSizes, id: 'pipeline' | 'pipeline-s75' = 'pipeline', taskScale = 1): BenchCase {
  const { width, height } = sizes.frame;
  const sh = Math.round(height * taskScale), sw = Math.round(width * taskScale);
  return {
    id, kind: 'pipeline',
    label: `pipeline F+S ${sizeLabel(width, height)}${taskScale === 1 ? '' : `, S at ${sizeLabel(sw, sh)}`}`,
    note: 'createPipeline().run: colour split, F, S, argmax, box decode + NMS, colour merge, all read back',
    async setup(env) {
      const f = env.models.params('fusion');
      const s = env.models.params('segdet');
      const pipe = createPipeline({ fusion: f, segdet: s });
      return {
        macs: MODELS.fusion.macs(height, width) + MODELS.segdet.macs(sh, sw),
        async run() {
          await pipe.run(env.scene.ir, env.scene.vi, { taskScale });
        },
        dispose() {
          disposeParams(f);
          disposeParams(s);
        },
      };
    },
  };
}

/**
 * A published network on the scene as the page and `fuse --method` run it: its input reading,
 * the network in 256-px tiles, its output writing. Seeded weights (timing does not depend on the
 * values); multiply-adds of the network on the frame, without the tiles' overlap.
 */
function peerCase(id: PeerId, sizes: CaseSizes): BenchCase {
  const { width, height } = sizes.frame;
  const def = PEERS[id];
  return {
    id, kind: 'forward', label: `${def.label} fwd ${sizeLabel(width, height)}`,
    note: 'runPeer: the method\'s colour handling and its network in 256-px tiles, read back',
    async setup(env) {
      const rng = new Rng(13);
      const params: PeerParams = Object.fromEntries(peerParamSpecs(def.convs).map((s) => {
        const n = s.shape.reduce((a, b) => a * b, 1);
        return [s.name, tf.tensor(rng.normalArray(n, 0, Math.sqrt(2 / Math.max(1, n / s.shape.at(-1)!))), s.shape)];
      }));
      return {
        macs: def.macs(height, width),
        async run() {
          await runPeer(def, params, env.scene.ir, env.scene.vi);
        },
        dispose: () => tf.dispose(Object.values(params)),
      };
    },
  };
}

/**
 * One step of a fine-tuning strategy on fresh crops each step, drawn as the fine-tune session
 * draws them; `options` beyond the defaults for the variants of the claim's comparison.
 */
function strategyCase(id: CaseId, name: StrategyName, sizes: CaseSizes, options: Record<string, number | string> = {}): BenchCase {
  const { batch, crop } = sizes;
  const given = Object.entries(options).map(([k, v]) => `${k}=${v}`).join(', ');
  return {
    id, kind: 'train',
    label: `${name} step b${batch} ${crop}²${given ? ` (${given})` : ''}`,
    note: `createStrategy(name, all four models, ${given || 'default options'}).step(drawStepBatches(...)); crops sampled per step`,
    async setup(env) {
      const models = {
        fusion: env.models.params('fusion'), discriminator: env.models.params('discriminator'),
        segdet: env.models.params('segdet'), lossGenerator: env.models.params('lossGenerator'),
      };
      let strategy;
      try {
        strategy = createStrategy(name, models, options);
      } catch (e) {
        for (const p of Object.values(models)) disposeParams(p);
        throw e;
      }
      const s = strategy;
      const pair: TrainPair = syntheticTrainPair(env.scene, splitYCbCr(env.scene.vi).y);
      const rng = new Rng(5);
      return {
        async run() {
          await s.step(drawStepBatches(s, [pair], { batch, crop, train: [0], heldOut: [0] }, rng));
        },
        dispose() {
          s.dispose();
          for (const p of Object.values(models)) disposeParams(p);
        },
      };
    },
  };
}

/** Every case at `sizes`, in run order (the raw conv first: it is the reference for the others). */
export function benchCases(sizes: CaseSizes = FULL_SIZES): BenchCase[] {
  return [
    rawConvCase(sizes),
    depthwiseCase('dw', sizes),
    depthwiseCase('dwgrad', sizes),
    forwardCase('F', 'fusion', 'fusion', sizes),
    forwardCase('S', 'segdet', 'segdet', sizes),
    forwardCase('G', 'lossGenerator', 'loss-gen', sizes),
    pipelineCase(sizes),
    pipelineCase(sizes, 'pipeline-s75', 0.75),
    strategyCase('fixed', 'fixed', sizes),
    strategyCase('bdl', 'bdl', sizes),
    strategyCase('td', 'td', sizes),
    strategyCase('bdl-pooled-c', 'bdl', sizes, { cWindow: 20 }),
    strategyCase('td-two-scales', 'td', sizes, { metaScale: 0.5 }),
    ...PEER_IDS.map((id) => peerCase(id, sizes)),
  ];
}
