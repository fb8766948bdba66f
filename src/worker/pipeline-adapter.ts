/**
 * Adapter between the worker and the core pipeline (`src/core/pipeline.ts`, the same one the
 * CLI runs): builds F and S from downloaded weight bytes and presents one `run(ir, vi)`.
 *
 * Missing pieces degrade instead of failing: without S weights the pipeline runs F only (no
 * segmentation or detection); without F weights a transparent baseline runs (fused
 * Y = max(IR, Y_vis) with the visible chroma). Either way a notice says so.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Detection, Params, RawImage } from '../core/types';
import { imageToY, mergeYCbCr, planeToGrey8, splitYCbCr } from '../core/image/color';
import { planesToTensor, tensorToPlane } from '../core/image/tensor';
import { countParams, disposeParams } from '../core/models/model-def';
import { fusion as fusionDef } from '../core/models/fusion';
import { segdet as segdetDef } from '../core/models/segdet';
import { createPipeline, prepareInputs, type PipelineRunOptions } from '../core/pipeline';
import { loadWeightsInto } from '../core/weights/io';
import type { FuseOptions, ModelStatus, Notice } from '../protocol/messages';
import type { MissingModel, ModelFiles } from './model-files';

/** Models the pipeline needs, by folder name under `models/`. */
export const PIPELINE_MODELS = [fusionDef.name, segdetDef.name];

/** Lowest detection score returned (the UI thresholds on top). */
export const MIN_DET_SCORE = 0.05;

/** What one pipeline pass returns, at the processed size. */
export interface PipelineOutput {
  width: number;
  height: number;
  /** Processed IR and VI (after any resize), for display and metrics. */
  ir: RawImage;
  vi: RawImage;
  /** Fused Y, 8-bit grey. */
  fusedY: Uint8Array;
  /** Fused colour image, RGBA. */
  rgb: RawImage;
  seg: Uint8Array | null;
  detections: Detection[];
  notices: Notice[];
}

export interface BuiltPipeline {
  status: ModelStatus[];
  run(ir: RawImage, vi: RawImage, fit: FuseOptions): Promise<PipelineOutput>;
  /**
   * The same pass with other parameters (a fine-tuning run's F, an S adapted to a run's images;
   * the pretrained ones where not given), and optionally another method's image in place of F's:
   * an imported one (`by.fused`) or a published network's (`by.fuser`).
   * @throws when no trained F is loaded (the baseline has nothing to swap).
   */
  runWith(swap: { fusion?: Params; segdet?: Params }, ir: RawImage, vi: RawImage, fit: FuseOptions, by?: Pick<PipelineRunOptions, 'fused' | 'fuser'>): Promise<PipelineOutput>;
  /** Whether trained S weights are loaded (segmentation, detection, pseudo-labels). */
  readonly hasTasks: boolean;
  dispose(): void;
}


/** Loads weight bytes into fresh variables of a model. @throws WeightsError on any mismatch. */
export function loadModel(def: { init(seed: number): Params }, files: ModelFiles): Params {
  const params = def.init(0);
  try {
    loadWeightsInto(params, files.modelJson, files.shards);
  } catch (e) {
    disposeParams(params);
    throw e;
  }
  return params;
}

/** Baseline used when no trained fusion weights are available. */
function baselinePipeline(status: ModelStatus[]): BuiltPipeline {
  const notice: Notice = {
    level: 'warn', code: 'no-weights',
    message: 'No trained fusion weights loaded: showing a max(IR, Y) baseline without segmentation or detection.',
  };
  return {
    status,
    async run(irIn, viIn, fit) {
      const { ir, vi, notices: adapted } = prepareInputs(irIn, viIn, fit.maxSide, fit.aspect ?? 'refuse');
      const notices: Notice[] = [notice, ...adapted];
      const { width, height } = ir;
      const { y, cb, cr } = splitYCbCr(vi);
      const x = planesToTensor([imageToY(ir), y], height, width);
      const f = tf.max(x, 3);
      const fusedPlane = await tensorToPlane(f);
      tf.dispose([x, f]);
      return {
        width, height, ir, vi,
        fusedY: planeToGrey8(fusedPlane),
        rgb: { width, height, channels: 4, data: mergeYCbCr(fusedPlane, cb, cr) },
        seg: null, detections: [], notices,
      };
    },
    runWith() {
      return Promise.reject(new Error('no trained weights are loaded: runs and other methods cannot be fused or scored'));
    },
    hasTasks: false,
    dispose() {},
  };
}

/**
 * Builds the pipeline on the current tfjs backend from downloaded weights.
 * Models that are missing or fail validation are reported in `status`, never thrown.
 */
export function buildPipeline(files: ModelFiles[], missing: MissingModel[]): BuiltPipeline {
  const status: ModelStatus[] = missing.map((m) => ({ name: m.name, loaded: false, note: m.reason }));
  const loaded = new Map<string, Params>();
  for (const f of files) {
    const def = f.name === fusionDef.name ? fusionDef : f.name === segdetDef.name ? segdetDef : null;
    if (!def) continue;
    try {
      const params = loadModel(def, f);
      loaded.set(f.name, params);
      status.push({ name: f.name, loaded: true, params: countParams(params), note: 'trained weights loaded', card: f.card });
    } catch (e) {
      status.push({ name: f.name, loaded: false, note: `weights rejected: ${(e as Error).message}`, card: f.card });
    }
  }
  const fusion = loaded.get(fusionDef.name);
  if (!fusion) {
    for (const p of loaded.values()) disposeParams(p);
    return baselinePipeline(status);
  }
  let segdet = loaded.get(segdetDef.name);
  const tasks = segdet !== undefined;
  // createPipeline needs S parameters even when tasks are off.
  segdet ??= segdetDef.init(0);
  const pipeline = createPipeline({ fusion, segdet });
  const noTasks: Notice = {
    level: 'warn', code: 'no-weights',
    message: 'No trained segmenter/detector weights loaded: fusion only, no segmentation or detection.',
  };
  const runOn = async (p: ReturnType<typeof createPipeline>, ir: RawImage, vi: RawImage, fit: FuseOptions,
    by: Pick<PipelineRunOptions, 'fused' | 'fuser'> = {}): Promise<PipelineOutput> => {
    const r = await p.run(ir, vi, { maxSide: fit.maxSide, aspect: fit.aspect ?? 'refuse', tasks, scoreThreshold: MIN_DET_SCORE, ...by });
    const notices: Notice[] = [...r.notices];
    if (!tasks) notices.push(noTasks);
    return {
      width: r.width, height: r.height, ir: r.ir, vi: r.vi, fusedY: r.fusedY,
      rgb: { width: r.width, height: r.height, channels: 4, data: r.rgb },
      seg: tasks && r.seg.length ? r.seg : null,
      detections: r.detections,
      notices,
    };
  };
  return {
    status,
    hasTasks: tasks,
    runWith: (swap, ir, vi, fit, by) => runOn(swap.fusion || swap.segdet
      ? createPipeline({ fusion: swap.fusion ?? fusion, segdet: swap.segdet ?? segdet! }) : pipeline, ir, vi, fit, by),
    run: (ir, vi, fit) => runOn(pipeline, ir, vi, fit),
    dispose() {
      disposeParams(fusion);
      disposeParams(segdet);
    },
  };
}
