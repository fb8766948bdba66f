/**
 * Shared plain-data types of the core. No tensors cross module boundaries in these types,
 * so they also describe what crosses the worker boundary.
 */
import type * as tf from '@tensorflow/tfjs-core';

/** A decoded 8-bit image, row-major, interleaved channels (1 = grey, 3 = RGB, 4 = RGBA). */
export interface RawImage {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array | Uint8ClampedArray;
}

/** Named trainable parameters of one model, keyed like `enc1/conv/kernel`. */
export type Params = Record<string, tf.Variable>;

/** Shape and dtype of one named parameter, as recorded in a weights manifest. */
export interface ParamSpec {
  name: string;
  shape: number[];
}

/** MSRS segmentation classes, index = label value. */
export const SEG_CLASSES = [
  'unlabelled', 'car', 'person', 'bike', 'curve', 'car_stop', 'guardrail', 'color_cone', 'bump',
] as const;
export const NUM_SEG_CLASSES = SEG_CLASSES.length;

/** Detection classes, in the order of `detection.json`'s `classes`. */
export const DET_CLASSES = ['person', 'bicycle', 'car'] as const;
export const NUM_DET_CLASSES = DET_CLASSES.length;

/** One detection box in pixels of the input image: x1, y1, x2, y2, class index, score. */
export type Detection = [number, number, number, number, number, number];

/** One ground-truth box: x1, y1, x2, y2, class index. */
export type GroundTruthBox = [number, number, number, number, number];

/** The nine fusion metrics of docs/metrics.md, keyed by their usual names. */
export interface FusionMetrics {
  EN: number; SD: number; SF: number; AG: number; MI: number;
  SCD: number; VIF: number; Qabf: number; SSIM: number;
}
export const FUSION_METRIC_NAMES: (keyof FusionMetrics)[] =
  ['EN', 'SD', 'SF', 'AG', 'MI', 'SCD', 'VIF', 'Qabf', 'SSIM'];
