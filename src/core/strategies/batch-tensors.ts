/** Crop batches as tensors: what every strategy's step starts from. */
import * as tf from '@tensorflow/tfjs-core';
import type { CropBatch } from '../train/batch';
import { encodeBatch, type DetectionTargetTensors } from '../detect/centernet';
import { cropBoxes } from '../detect/boxes';
import type { GroundTruthBox } from '../types';

/** One crop batch as tensors, cut to a multiple of the models' stride. All owned by the holder. */
export interface BatchTensors {
  batch: number;
  height: number;
  width: number;
  /** `[B,h,w,2]` = (IR, Y_vis) in [0,1]: the input of F and G. */
  x: tf.Tensor4D;
  /** `[B,h,w,1]` each. */
  ir: tf.Tensor4D;
  vi: tf.Tensor4D;
  /** `[B,h,w,2]` visible (Cb, Cr), when the batch has colour: S sees the fused Y in colour. */
  chroma: tf.Tensor4D | null;
  /** `[B,h,w]` int32 class indices, when the batch has labels. */
  labels: tf.Tensor3D | null;
  /** CenterNet targets at `h/4 × w/4`, when the batch has boxes. */
  targets: DetectionTargetTensors | null;
}

/**
 * Turns a {@link CropBatch} into tensors, keeping the top-left `h×w` with h, w the largest
 * multiples of `multiple` (the models' strides must divide the input size). Boxes are clipped
 * to the kept window (boxes keeping < 40 % of their area are dropped, as in `sampleCrops`).
 * @throws if the crop is smaller than `multiple`.
 */
export function batchTensors(b: CropBatch, multiple: number): BatchTensors {
  const h = Math.floor(b.height / multiple) * multiple;
  const w = Math.floor(b.width / multiple) * multiple;
  if (h === 0 || w === 0) {
    throw new Error(`crops of ${b.width}x${b.height} px are smaller than the models' stride ${multiple}: use larger crops`);
  }
  const n = h * w;
  const irvi = new Float32Array(b.batch * n * 2);
  const ir = new Float32Array(b.batch * n);
  const vi = new Float32Array(b.batch * n);
  const labels = b.label ? new Int32Array(b.batch * n) : null;
  const chroma = b.chroma ? new Float32Array(b.batch * n * 2) : null;
  for (let i = 0; i < b.batch; i++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const s = (i * b.height + y) * b.width + x;
        const d = (i * h + y) * w + x;
        ir[d] = irvi[2 * d] = b.irvi[2 * s];
        vi[d] = irvi[2 * d + 1] = b.irvi[2 * s + 1];
        if (labels) labels[d] = b.label![s];
        if (chroma) {
          chroma[2 * d] = b.chroma![2 * s];
          chroma[2 * d + 1] = b.chroma![2 * s + 1];
        }
      }
    }
  }
  let targets: DetectionTargetTensors | null = null;
  if (b.boxes) {
    const cut = h !== b.height || w !== b.width;
    const boxes: GroundTruthBox[][] = b.boxes.map((bs) => (cut ? cropBoxes(bs, 0, 0, w, h) : bs));
    targets = encodeBatch(boxes, h, w);
  }
  return {
    batch: b.batch, height: h, width: w,
    x: tf.tensor4d(irvi, [b.batch, h, w, 2]),
    ir: tf.tensor4d(ir, [b.batch, h, w, 1]),
    vi: tf.tensor4d(vi, [b.batch, h, w, 1]),
    chroma: chroma ? tf.tensor4d(chroma, [b.batch, h, w, 2]) : null,
    labels: labels ? tf.tensor3d(labels, [b.batch, h, w], 'int32') : null,
    targets,
  };
}
