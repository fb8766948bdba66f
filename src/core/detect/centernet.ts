/**
 * CenterNet (Zhou et al., "Objects as Points", 2019) target encoding and box decoding for the
 * detection head of S, in the box encoding of the COCO-pretrained MobileNetV3 CenterNet that
 * S's head is imported from (so the imported head decodes exactly as the source graph does).
 *
 * Head layout (`det`, `[B, h, w, 7]` at 1/stride of the input, stride 4):
 * * channels 0..2: heat-map logits for person, bicycle, car (sigmoid gives the heat map);
 * * channels 3..6: distances from the cell's anchor `(stride·x, stride·y)` (input pixels, the
 *   cell's top-left corner) to the box's left, top, right and bottom edges, in units of
 *   {@link BOX_UNIT} px: box = `(sx − u·l, sy − u·t, sx + u·r, sy + u·b)`.
 *
 * Coordinates: continuous input pixels (x right, y down, image spans [0,W]×[0,H]); an object
 * with centre c (input px) sits at output cell `floor(c / stride)`.
 *
 * Targets are plain typed arrays (one image at a time) so training code can build them off
 * the tensor path and batch them; {@link targetsToTensors} turns a batch into tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { NUM_DET_CLASSES, type Detection, type GroundTruthBox } from '../types';
import { nms } from './boxes';
import { webgpuPrograms } from '../nn/webgpu-programs';
import { detectionPeaksWebgpu } from './peaks-webgpu';

/** Output stride of the detection head relative to the input image. */
export const DET_STRIDE = 4;
/** Channels of the detection head: 3 heat logits, 4 box distances. */
export const DET_CHANNELS = NUM_DET_CLASSES + 4;
/** Unit of the box distances in input pixels (the source graph scales its `wh` output by 16). */
export const BOX_UNIT = 16;

/** Detection targets of one image on its output grid (NHWC order without the batch axis). */
export interface CenterNetTargets {
  /** Output grid height and width (`ceil(H / stride)`, `ceil(W / stride)`). */
  height: number;
  width: number;
  /** `[h, w, 3]` Gaussian heat maps in [0,1], exactly 1 at object centres. */
  heatmap: Float32Array;
  /** `[h, w, 4]` box distances (l, t, r, b) from the centre cell's anchor, in BOX_UNIT px; 0 elsewhere. */
  box: Float32Array;
  /** `[h, w]` 1 at cells that carry a box target, 0 elsewhere. */
  mask: Float32Array;
  /** Number of encoded objects (boxes kept after clipping). */
  numObjects: number;
}

/** A batch of targets as tensors, the second argument of `detectionLoss`. Owned by the caller. */
export interface DetectionTargetTensors {
  /** `[B, h, w, 3]` */
  heatmap: tf.Tensor4D;
  /** `[B, h, w, 4]` */
  box: tf.Tensor4D;
  /** `[B, h, w, 1]` */
  mask: tf.Tensor4D;
}

/**
 * Gaussian radius (output cells) for a box of `height × width` output cells: the largest
 * corner displacement that keeps IoU ≥ `minOverlap` — the formula of the CenterNet/CornerNet
 * reference code, as published (its three quadratic cases with their known simplification,
 * which is what the published CenterNet models were trained with).
 */
export function gaussianRadius(height: number, width: number, minOverlap = 0.7): number {
  const a1 = 1, b1 = height + width, c1 = (width * height * (1 - minOverlap)) / (1 + minOverlap);
  const r1 = (b1 + Math.sqrt(b1 * b1 - 4 * a1 * c1)) / 2;
  const a2 = 4, b2 = 2 * (height + width), c2 = (1 - minOverlap) * width * height;
  const r2 = (b2 + Math.sqrt(b2 * b2 - 4 * a2 * c2)) / 2;
  const a3 = 4 * minOverlap, b3 = -2 * minOverlap * (height + width), c3 = (minOverlap - 1) * width * height;
  const r3 = (b3 + Math.sqrt(b3 * b3 - 4 * a3 * c3)) / 2;
  return Math.min(r1, r2, r3);
}

/**
 * Encodes one image's ground-truth boxes as CenterNet targets.
 *
 * Boxes are clipped to the image first; boxes under 1 px wide or high after clipping are
 * skipped. Each object draws a Gaussian (radius {@link gaussianRadius} of its size in output
 * cells, floored, σ = (2r + 1)/6) into its class's heat map, combined by maximum. When two
 * objects fall into the same cell, the smaller one's box target wins (it is the one the cell's
 * features see best).
 *
 * @param boxes `[x1,y1,x2,y2,cls]` in input pixels, cls in 0..2 (person, bicycle, car).
 * @param height, width input image size in pixels.
 */
export function encodeTargets(
  boxes: readonly GroundTruthBox[], height: number, width: number, stride = DET_STRIDE,
): CenterNetTargets {
  const h = Math.ceil(height / stride), w = Math.ceil(width / stride);
  const nc = NUM_DET_CLASSES;
  const t: CenterNetTargets = {
    height: h, width: w,
    heatmap: new Float32Array(h * w * nc),
    box: new Float32Array(h * w * 4),
    mask: new Float32Array(h * w),
    numObjects: 0,
  };
  const valid: GroundTruthBox[] = [];
  for (const [bx1, by1, bx2, by2, cls] of boxes) {
    if (!(cls >= 0 && cls < nc && Number.isInteger(cls))) throw new Error(`encodeTargets: bad class index ${cls}`);
    const x1 = Math.max(0, Math.min(bx1, width)), x2 = Math.max(0, Math.min(bx2, width));
    const y1 = Math.max(0, Math.min(by1, height)), y2 = Math.max(0, Math.min(by2, height));
    if (x2 - x1 < 1 || y2 - y1 < 1) continue;
    valid.push([x1, y1, x2, y2, cls]);
  }
  // Largest first, so smaller objects overwrite shared regression cells.
  valid.sort((p, q) => (q[2] - q[0]) * (q[3] - q[1]) - (p[2] - p[0]) * (p[3] - p[1]));
  for (const [x1, y1, x2, y2, cls] of valid) {
    const bw = (x2 - x1) / stride, bh = (y2 - y1) / stride;
    const cx = (x1 + x2) / 2 / stride, cy = (y1 + y2) / 2 / stride;
    const ix = Math.min(Math.floor(cx), w - 1), iy = Math.min(Math.floor(cy), h - 1);
    const r = Math.max(0, Math.floor(gaussianRadius(Math.ceil(bh), Math.ceil(bw))));
    drawGaussian(t.heatmap, h, w, nc, cls, ix, iy, r);
    const cell = iy * w + ix;
    // Distances from the anchor (the cell's corner); a box under a cell wide can leave the
    // anchor outside it, where a distance would be negative: 0 then.
    const ax = ix * stride, ay = iy * stride;
    t.box.set([ax - x1, ay - y1, x2 - ax, y2 - ay].map((d) => Math.max(d, 0) / BOX_UNIT), 4 * cell);
    t.mask[cell] = 1;
    t.numObjects++;
  }
  return t;
}

/** Max-combines a (2r+1)² Gaussian with σ = (2r+1)/6, peak exactly 1, into one class plane. */
function drawGaussian(
  heat: Float32Array, h: number, w: number, nc: number, cls: number, cx: number, cy: number, r: number,
): void {
  const sigma = (2 * r + 1) / 6;
  const denom = 2 * sigma * sigma;
  for (let y = Math.max(0, cy - r); y <= Math.min(h - 1, cy + r); y++) {
    for (let x = Math.max(0, cx - r); x <= Math.min(w - 1, cx + r); x++) {
      const dx = x - cx, dy = y - cy;
      let g = Math.exp(-(dx * dx + dy * dy) / denom);
      // As the reference: drop the float-epsilon tail so far cells stay exact negatives.
      if (g < 1.1920929e-7) g = 0;
      const i = (y * w + x) * nc + cls;
      if (g > heat[i]) heat[i] = g;
    }
  }
}

/** Stacks per-image targets (same grid size) into tensors `[B,h,w,·]`, owned by the caller. */
export function targetsToTensors(targets: readonly CenterNetTargets[]): DetectionTargetTensors {
  if (targets.length === 0) throw new Error('targetsToTensors: empty batch');
  const { height: h, width: w } = targets[0];
  for (const t of targets) {
    if (t.height !== h || t.width !== w) throw new Error('targetsToTensors: targets of different grid sizes');
  }
  const cat = (pick: (t: CenterNetTargets) => Float32Array, per: number): Float32Array => {
    const out = new Float32Array(targets.length * per);
    targets.forEach((t, i) => out.set(pick(t), i * per));
    return out;
  };
  const b = targets.length, n = h * w, nc = NUM_DET_CLASSES;
  return {
    heatmap: tf.tensor4d(cat((t) => t.heatmap, n * nc), [b, h, w, nc]),
    box: tf.tensor4d(cat((t) => t.box, n * 4), [b, h, w, 4]),
    mask: tf.tensor4d(cat((t) => t.mask, n), [b, h, w, 1]),
  };
}

/** {@link encodeTargets} for every image of a batch, then {@link targetsToTensors}. */
export function encodeBatch(
  boxesPerImage: readonly (readonly GroundTruthBox[])[], height: number, width: number, stride = DET_STRIDE,
): DetectionTargetTensors {
  return targetsToTensors(boxesPerImage.map((b) => encodeTargets(b, height, width, stride)));
}

/** Disposes every tensor of a target batch. */
export function disposeTargets(t: DetectionTargetTensors): void {
  tf.dispose([t.heatmap, t.box, t.mask]);
}

/** Options of {@link decodeDetections}. */
export interface DecodeOptions {
  /** Minimum heat-map score (sigmoid) of a kept detection (default 0.05; use ~0.3 for display). */
  scoreThreshold?: number;
  /** Maximum number of detections returned (default 100). */
  maxDetections?: number;
  /** Class-wise NMS IoU threshold (default 0.5; ≥ 1 disables NMS). */
  nmsIoU?: number;
  /** Output stride of the head (default 4). */
  stride?: number;
  /**
   * Size of the real (unpadded) input in pixels; boxes are clipped to it and those left with
   * no area dropped (default: the grid size × stride).
   */
  inputHeight?: number;
  inputWidth?: number;
}

/**
 * Decodes the detection head of one image into boxes: sigmoid heat maps, 3×3 peak picking
 * (a cell is a peak when it equals the 3×3 max-pool of its class plane), the top
 * `max(100, maxDetections)` peaks above the threshold, boxes from the distance channels, clipping to the input, class-wise NMS, then the best `maxDetections` by score.
 *
 * @param det `[1, h, w, 7]` raw head output (not disposed).
 * @returns detections `[x1,y1,x2,y2,cls,score]` in input pixels, sorted by decreasing score.
 */
export async function decodeDetections(det: tf.Tensor4D, opts: DecodeOptions = {}): Promise<Detection[]> {
  const [b, h, w, c] = det.shape;
  if (b !== 1 || c !== DET_CHANNELS) {
    throw new Error(`decodeDetections: expected [1,h,w,${DET_CHANNELS}], got [${det.shape.join(',')}]`);
  }
  const stride = opts.stride ?? DET_STRIDE;
  const thr = opts.scoreThreshold ?? 0.05;
  const maxDet = opts.maxDetections ?? 100;
  const nmsIoU = opts.nmsIoU ?? 0.5;
  const inH = opts.inputHeight ?? h * stride;
  const inW = opts.inputWidth ?? w * stride;
  const nc = NUM_DET_CLASSES;

  // Peak picking on the tensor side (max-pool at inference only, no gradient involved) over all
  // 7 channels, of which the first 3 are heat maps: slicing them out and concatenating the box
  // channels back would cost more on WASM (JS loops per pixel) than the extra channels do.
  // Then two reads of [h,w,7]: the peaks and the raw head (box distances); on WebGPU one.
  let peakData: Float32Array, data: Float32Array;
  if (webgpuPrograms()) {
    // One program and one read: peaks in the heat channels, the raw head in the box channels.
    const both = detectionPeaksWebgpu(det);
    try {
      peakData = data = (await both.data()) as Float32Array;
    } finally {
      both.dispose();
    }
  } else {
    const peaks = tf.tidy(() => {
      const heat = tf.sigmoid(det);
      const pooled = tf.maxPool(heat, 3, 1, 'same');
      return tf.mul(heat, tf.cast(tf.equal(heat, pooled), 'float32'));
    });
    try {
      [peakData, data] = (await Promise.all([peaks.data(), det.data()])) as [Float32Array, Float32Array];
    } finally {
      peaks.dispose();
    }
  }

  const cand: { cell: number; cls: number; score: number }[] = [];
  for (let cell = 0; cell < h * w; cell++) {
    for (let k = 0; k < nc; k++) {
      const s = peakData[cell * c + k];
      if (s >= thr && s > 0) cand.push({ cell, cls: k, score: s });
    }
  }
  cand.sort((p, q) => q.score - p.score);
  const topK = Math.max(100, maxDet);
  const dets: Detection[] = [];
  for (const { cell, cls, score } of cand.slice(0, topK)) {
    const o = cell * c + nc;
    const y = Math.floor(cell / w), x = cell - y * w;
    const ax = x * stride, ay = y * stride;
    const x1 = Math.max(0, ax - BOX_UNIT * data[o]), y1 = Math.max(0, ay - BOX_UNIT * data[o + 1]);
    const x2 = Math.min(inW, ax + BOX_UNIT * data[o + 2]), y2 = Math.min(inH, ay + BOX_UNIT * data[o + 3]);
    if (x2 > x1 && y2 > y1) dets.push([x1, y1, x2, y2, cls, score]);
  }
  const kept = nmsIoU >= 1 ? dets : nms(dets, nmsIoU);
  return kept.slice(0, maxDet);
}
