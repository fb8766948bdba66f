/**
 * The benchmark's case list, shared by Node (`src/cli/bench.ts`) and the browser bench
 * (`src/bench/browser-worker.ts`) so both time exactly the same work. Imports the core only:
 * the caller registers tfjs backends, gradients and chained ops, and picks the backend.
 *
 * Cases: the raw-convolution ceiling; F, S and G forward at 640×480; the full pipeline (fuse +
 * segment + detect, including the CPU-side colour conversion and box decoding); one fine-tune
 * step (batch 4, 128×128 crops) per strategy.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MODELS, type ModelName } from '../core/models/registry';
import { disposeParams, type ModelDef } from '../core/models/model-def';
import { createPipeline } from '../core/pipeline';
import { countConvMacs } from '../core/nn/conv';
import { Rng } from '../core/nn/random';
import { splitYCbCr } from '../core/image/color';
import { planesToTensor } from '../core/image/tensor';
import { loadWeightsInto } from '../core/weights/io';
import { sampleCrops, type TrainPair } from '../core/train/batch';
import { Adam, trainLoop, type StepLog } from '../core/train/loop';
import { fusionObjective, segdetObjective, DEFAULT_SEGDET_WEIGHTS, type FusionLossWeights } from '../core/train/objectives';
import { encodeBatch } from '../core/detect/centernet';
import type { Params } from '../core/types';
import { syntheticPair, syntheticTrainPair, type SyntheticPair } from './scene';

/** Frame size of the inference cases (an MSRS frame). */
export const FRAME = { width: 640, height: 480 } as const;
/** Fine-tune step size: batch 4 of 128×128 crops. */
export const TRAIN_BATCH = { batch: 4, crop: 128 } as const;
/**
 * The raw-convolution ceiling: one 3×3 32→32 'same' conv (bias + ReLU, as the models run
 * them) on a 320×240 map, 0.71 G multiply-adds. 32 channels is the width most of F's and S's
 * multiply-adds run at; a single call is large enough to keep every backend busy.
 */
export const RAW_CONV = { height: 240, width: 320, cin: 32, cout: 32, k: 3 } as const;

/** Case ids, in run order. */
export const CASE_IDS = ['conv', 'F', 'S', 'G', 'pipeline', 'fixed', 'bdl', 'td'] as const;
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
}

/** A set-up case: call `run` repeatedly, then `dispose`. */
export interface CaseInstance {
  /** Multiply-adds of one `run` (may become known only after the first run). */
  macs(): number;
  /** How `macs` was obtained, when it is not exact (e.g. an estimate for training steps). */
  macsNote?: string;
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
export function makeEnv(models: ModelStore): CaseEnv {
  return { models, scene: syntheticPair(FRAME.width, FRAME.height) };
}

function rawConvCase(): BenchCase {
  const { height: h, width: w, cin, cout, k } = RAW_CONV;
  return {
    id: 'conv', kind: 'ceiling',
    label: `raw conv ${k}×${k} ${cin}→${cout} @${w}×${h}`,
    note: 'tf.fused.conv2d (bias + ReLU), the practical ceiling',
    async setup() {
      const rng = new Rng(11);
      const x = tf.tensor4d(rng.uniformArray(h * w * cin), [1, h, w, cin]);
      const f = tf.tensor4d(rng.normalArray(k * k * cin * cout, 0, 0.1), [k, k, cin, cout]);
      const b = tf.tensor1d(new Float32Array(cout));
      return {
        macs: () => h * w * k * k * cin * cout,
        async run() {
          const y = tf.fused.conv2d({ x, filter: f, bias: b, strides: 1, pad: 'same', activation: 'relu' });
          await y.data();
          y.dispose();
        },
        dispose: () => tf.dispose([x, f, b]),
      };
    },
  };
}

/** Forward pass of one model at 640×480 on `channels` input planes of the scene. */
function forwardCase(id: 'F' | 'S' | 'G', name: ModelName, label: string): BenchCase {
  return {
    id, kind: 'forward', label,
    async setup(env) {
      const def = MODELS[name] as ModelDef<tf.Tensor4D | Record<string, tf.Tensor4D>>;
      const params = env.models.params(name);
      const { ir, vi } = env.scene;
      const irY = Float32Array.from(ir.data, (v) => v / 255);
      const viY = splitYCbCr(vi).y;
      const x = name === 'segdet'
        ? planesToTensor([viY], FRAME.height, FRAME.width)
        : planesToTensor([irY, viY], FRAME.height, FRAME.width);
      return {
        macs: () => def.macs(FRAME.height, FRAME.width),
        async run() {
          const out = def.apply(params, x);
          const outs = out instanceof tf.Tensor ? [out] : Object.values(out);
          try {
            for (const o of outs) await o.data();
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

function pipelineCase(): BenchCase {
  return {
    id: 'pipeline', kind: 'pipeline',
    label: 'pipeline F+S 640×480',
    note: 'createPipeline().run: colour split, F, S, argmax, box decode + NMS, colour merge',
    async setup(env) {
      const f = env.models.params('fusion');
      const s = env.models.params('segdet');
      const pipe = createPipeline({ fusion: f, segdet: s });
      return {
        macs: () => MODELS.fusion.macs(FRAME.height, FRAME.width) + MODELS.segdet.macs(FRAME.height, FRAME.width),
        async run() {
          await pipe.run(env.scene.ir, env.scene.vi);
        },
        dispose() {
          disposeParams(f);
          disposeParams(s);
        },
      };
    },
  };
}

/** Multiply-adds of a training step estimated from its forward convs: forward + dx + dW ≈ 3×. */
export const TRAIN_MACS_FACTOR = 3;
const TRAIN_MACS_NOTE = '≈3× the forward conv MACs counted in one step (forward, dx, dW); loss filters not counted';

/**
 * Interim `fixed` step until `src/core/strategies` lands: F trained with Adam through the core's
 * `trainLoop` on a fixed weighting of `fusionObjective` (SeAFusion-style intensity + texture +
 * SSIM) plus the segmentation + detection loss of a frozen S on the fused crops.
 */
export const INTERIM_FIXED_WEIGHTS: FusionLossWeights = {
  intensity: 1, intensityMode: 'max', gradient: 10, gradientVariant: 'abs-max', ssim: 0.5, adversarial: 0,
};
/** Weight of the task loss in the interim fixed step. */
export const INTERIM_TASK_WEIGHT = 0.1;

function interimFixedCase(): BenchCase {
  const { batch, crop } = TRAIN_BATCH;
  return {
    id: 'fixed', kind: 'train',
    label: `fixed step b${batch} ${crop}²`,
    note: 'interim: trainLoop + fusionObjective + frozen-S task loss (src/core/strategies not landed)',
    async setup(env) {
      const f = env.models.params('fusion');
      const s = env.models.params('segdet');
      const pair: TrainPair = syntheticTrainPair(env.scene, splitYCbCr(env.scene.vi).y);
      const optimizer = new Adam(f);
      let fwdMacs = 0;
      const gen = trainLoop({
        params: f, optimizer, seed: 3, steps: Number.MAX_SAFE_INTEGER, lr: 1e-4, warmup: 0,
        loss: (_step, rng) => {
          const counted = countConvMacs(() => {
            const b = sampleCrops([pair], { batch, cropHeight: crop, cropWidth: crop }, rng);
            const x = tf.tensor4d(b.irvi, [batch, b.height, b.width, 2]);
            const ir = tf.slice(x, [0, 0, 0, 0], [batch, b.height, b.width, 1]) as tf.Tensor4D;
            const vi = tf.slice(x, [0, 0, 0, 1], [batch, b.height, b.width, 1]) as tf.Tensor4D;
            const fused = MODELS.fusion.apply(f, x);
            const fl = fusionObjective(fused, ir, vi, INTERIM_FIXED_WEIGHTS);
            const labels = tf.tensor3d(Int32Array.from(b.label!), [batch, b.height, b.width], 'int32');
            const targets = encodeBatch(b.boxes!, b.height, b.width);
            const tl = segdetObjective(MODELS.segdet.apply(s, fused), labels, targets, DEFAULT_SEGDET_WEIGHTS);
            const total = tf.add(fl.total, tf.mul(tl.total, INTERIM_TASK_WEIGHT)) as tf.Scalar;
            return { total, terms: { ...fl.terms, ...tl.terms } };
          });
          fwdMacs = counted.macs;
          return counted.result;
        },
      });
      return {
        macs: () => TRAIN_MACS_FACTOR * fwdMacs,
        macsNote: TRAIN_MACS_NOTE,
        async run() {
          const r = await gen.next();
          if (r.done) throw new Error('training loop ended');
          void (r.value as StepLog);
        },
        dispose() {
          void gen.return();
          optimizer.dispose();
          disposeParams(f);
          disposeParams(s);
        },
      };
    },
  };
}

function missingStrategyCase(id: 'bdl' | 'td', reason: string): BenchCase {
  const { batch, crop } = TRAIN_BATCH;
  return {
    id, kind: 'train', label: `${id} step b${batch} ${crop}²`, unavailable: reason,
    setup: () => Promise.reject(new Error(reason)),
  };
}

/** Every case, in run order (the raw conv first: it is the reference for the others). */
export function benchCases(): BenchCase[] {
  const notYet = 'not available yet: src/core/strategies has not landed';
  return [
    rawConvCase(),
    forwardCase('F', 'fusion', 'F fusion fwd 640×480'),
    forwardCase('S', 'segdet', 'S segdet fwd 640×480'),
    forwardCase('G', 'lossGenerator', 'G loss-gen fwd 640×480'),
    pipelineCase(),
    interimFixedCase(),
    missingStrategyCase('bdl', notYet),
    missingStrategyCase('td', notYet),
  ];
}
