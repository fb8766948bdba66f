/**
 * Adapter between the worker and the core pipeline (`src/core/pipeline.ts`): builds the models
 * from downloaded weight bytes and presents one `run(ir, vi)`.
 *
 * Until trained weights (or the core pipeline) are available, a transparent baseline runs
 * instead: fused Y = max(IR, Y_vis) with the visible chroma, no segmentation, no detection,
 * and a notice saying so. It keeps the app usable and testable end to end.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Detection, RawImage } from '../core/types';
import { imageToY, mergeYCbCr, splitYCbCr } from '../core/image/color';
import { planesToTensor, tensorToPlane } from '../core/image/tensor';
import type { ModelStatus, Notice } from '../protocol/messages';
import type { MissingModel, ModelFiles } from './model-files';

/** Models the pipeline needs, by folder name under `models/`. */
export const PIPELINE_MODELS = ['fusion', 'segdet'];

/** What one pipeline pass returns, at the input (IR) size. */
export interface PipelineOutput {
  width: number;
  height: number;
  /** Fused colour image (RGB or RGBA). */
  rgb: RawImage;
  seg: Uint8Array | null;
  detections: Detection[];
  notices: Notice[];
}

export interface BuiltPipeline {
  status: ModelStatus[];
  run(ir: RawImage, vi: RawImage): Promise<PipelineOutput>;
  dispose(): void;
}

/** Baseline fusion used when no trained fusion weights are available. */
function baselinePipeline(status: ModelStatus[]): BuiltPipeline {
  const notice: Notice = {
    level: 'warn', code: 'no-weights',
    message: 'No trained weights loaded: showing a max(IR, Y) baseline without segmentation or detection.',
  };
  return {
    status,
    async run(ir, vi) {
      const { width, height } = ir;
      const irY = imageToY(ir);
      const { y, cb, cr } = splitYCbCr(vi);
      const x = planesToTensor([irY, y], height, width);
      const f = tf.tidy(() => tf.max(x, 3));
      const fusedY = await tensorToPlane(f);
      tf.dispose([x, f]);
      const rgb = mergeYCbCr(fusedY, cb, cr);
      return { width, height, rgb: { width, height, channels: 4, data: rgb }, seg: null, detections: [], notices: [notice] };
    },
    dispose() {},
  };
}

/**
 * Builds the pipeline on the current tfjs backend from downloaded weights.
 * Models that are missing or fail validation are reported in `status`, never thrown.
 */
export function buildPipeline(files: ModelFiles[], missing: MissingModel[]): BuiltPipeline {
  const status: ModelStatus[] = [];
  for (const m of missing) status.push({ name: m.name, loaded: false, note: m.reason });
  for (const f of files) {
    status.push({ name: f.name, loaded: false, note: 'weights downloaded; the core pipeline is not wired yet', card: f.card });
  }
  return baselinePipeline(status);
}
