/**
 * Fuse + segment + detect one IR/VI pair: the one inference path shared by the CLI and the
 * browser worker.
 *
 * Steps: VI resized to the IR size when they differ; both reduced when the longest side is
 * above `maxSide`; IR read as luma (grey or R=G=B images pass through), VI split into BT.601
 * Y/Cb/Cr; F fuses `[IR, Y_vis]`; S segments and detects on the fused RGB; the fused RGB is the
 * fused Y with the visible Cb/Cr. Inputs are padded (bottom/right, reflect) to a multiple of
 * both models' strides and outputs cropped back, so any size works. Every reduction or
 * resize is reported in `notices`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { NUM_SEG_CLASSES, type Detection, type Params, type RawImage } from './types';
import { isGreyLike, imageToY, mergeYCbCr, planeToGrey8, splitYCbCr } from './image/color';
import { cropTo, lcmStride, padToMultiple, type PadMode } from './image/pad';
import { centreCropToAspect, DEFAULT_MAX_SIDE, fitMaxPixels, fitMaxSide, resizeImage } from './image/resize';
import { fusedRgb, planesToTensor } from './image/tensor';
import { decodeDetections } from './detect/centernet';
import { FUSION_LAYERS, fusion as fusionModel } from './models/fusion';
import { SEGDET_LAYERS, segdet as segdetModel } from './models/segdet';
import { peakBytesPerPixel } from './nn/layers';

/** What the pipeline needs of the fusion model F (a `ModelDef` satisfies it). */
export interface FusionDefLike {
  /** Input H and W must be multiples of this. */
  stride: number;
  /** `[B,H,W,2]` (IR, Y_vis) in [0,1] -> fused Y `[B,H,W,1]` in [0,1]. */
  apply(params: Params, x: tf.Tensor4D): tf.Tensor4D;
}

/** What the pipeline needs of the segmenter + detector S (a `ModelDef` satisfies it). */
export interface SegDetDefLike {
  stride: number;
  /** fused RGB `[B,H,W,3]` -> `{ seg: [B,H,W,9] logits, det: [B,H/4,W/4,7] raw CenterNet head }`. */
  apply(params: Params, x: tf.Tensor4D): { seg: tf.Tensor4D; det: tf.Tensor4D };
}

/** Parameters of the two models the pipeline runs (variables; later updates are seen). */
export interface PipelineModels {
  fusion: Params;
  /** S; without it the pipeline only fuses (`tasks: false`). */
  segdet?: Params;
}

/** Model definitions; defaults to F (`models/fusion`) and S (`models/segdet`). Tests may pass small stand-ins. */
export interface PipelineDefs {
  fusion: FusionDefLike;
  segdet: SegDetDefLike;
}

/** Options of one {@link Pipeline.run}. */
export interface PipelineRunOptions {
  /** Longest side processed; larger inputs are reduced to it (default 2048 px). */
  maxSide?: number;
  /**
   * Most pixels processed, counted after padding to the models' stride; larger inputs are
   * reduced to fit, with a notice. Default: what the active backend runs in one pass
   * ({@link backendMaxPixels}: WebGPU's device limits, none elsewhere).
   */
  maxPixels?: number;
  /** Run S (segmentation + detection); false returns an empty `seg` and no detections. Default true. */
  tasks?: boolean;
  /** Minimum detection score kept (default 0.05, suitable for mAP; filter higher for display). */
  scoreThreshold?: number;
  /** Class-wise NMS IoU (default 0.5). */
  nmsIoU?: number;
  /** Maximum detections (default 100). */
  maxDetections?: number;
  /** Padding mode for the stride (default reflect). */
  padMode?: PadMode;
  /** What to do when the two images' aspect ratios differ (default `refuse`). */
  aspect?: AspectPolicy;
  /** S's input size relative to the processed image (default {@link DEFAULT_TASK_SCALE}). */
  taskScale?: number;
  /**
   * Another method's fused image of this pair (grey or colour, at the infrared image's size),
   * scored in place of F's: F does not run, S sees it in its own colours (a grey one in the
   * visible image's, as F's), and the fusion metrics see its luma.
   */
  fused?: RawImage;
  /**
   * Another network in place of F (a published method's port): given the pair on the processed
   * grid (the visible image fitted to the infrared one, both reduced as F's input would be), it
   * returns its fused image (grey or colour) at that size.
   */
  fuser?: (ir: RawImage, vi: RawImage) => Promise<RawImage>;
}

/**
 * S sees the fused image at full size by default. A smaller copy (`taskScale` < 1) is a speed
 * lever with a measured cost: at ¾ (~56 % of S's multiply-adds) msrs/test mIoU fell 48.6 → 47.5 %
 * and mAP@0.5 0.706 → 0.625 (bicycle 0.48 → 0.33), although the 40 pairs held out of S's
 * training had said 46.9 → 48.0 % and 0.629 → 0.617. The logits are resized back before the
 * argmax and the boxes scaled back.
 */
export const DEFAULT_TASK_SCALE = 1;

/**
 * Output pixels one workgroup of tfjs's WebGPU conv and matmul programs covers along the
 * dispatch dimension that counts pixels (their tile is 32 rows of the [pixels, channels] matrix).
 */
const WEBGPU_PIXELS_PER_WORKGROUP = 32;

/** Bytes per input pixel of F's and S's largest float32 activation (S's logits at full size included). */
const PEAK_BYTES_PER_PIXEL = Math.max(peakBytesPerPixel(FUSION_LAYERS), peakBytesPerPixel(SEGDET_LAYERS), 4 * NUM_SEG_CLASSES);

/** The two WebGPU device limits that bound the image size. */
type WebgpuLimits = { maxComputeWorkgroupsPerDimension: number; maxStorageBufferBindingSize: number };

/**
 * The largest image, in pixels after padding, that F and S run on under a WebGPU device's
 * limits. A full-resolution layer dispatches one workgroup per 32 output pixels in one
 * dimension, at most `maxComputeWorkgroupsPerDimension` (65,535 on most devices: 2.1 MP; past
 * it tfjs throws), and every activation must fit one storage-buffer binding (S's largest, 64
 * float32 channels at half resolution, takes 64 bytes per input pixel: 2.1 MP at the common
 * 128 MiB; past it the kernel fails and its output is wrong).
 */
export function webgpuMaxPixels(limits: WebgpuLimits): number {
  return Math.floor(Math.min(
    limits.maxComputeWorkgroupsPerDimension * WEBGPU_PIXELS_PER_WORKGROUP,
    limits.maxStorageBufferBindingSize / PEAK_BYTES_PER_PIXEL,
  ));
}

/**
 * What the active tfjs backend runs in one pass: on WebGPU its device's limits
 * ({@link webgpuMaxPixels}); elsewhere no limit. The pipeline's default `maxPixels`.
 */
export function backendMaxPixels(): number | undefined {
  if (tf.getBackend() !== 'webgpu') return undefined;
  const device = (tf.backend() as unknown as { device?: { limits: WebgpuLimits } }).device;
  return device ? webgpuMaxPixels(device.limits) : undefined;
}

/** A note on how an input was adapted. */
export interface PipelineNotice {
  level: 'info' | 'warn';
  code: 'resized' | 'cropped' | 'downscaled' | 'ir-colour';
  message: string;
}

/**
 * Pairs with a side below this are refused: the metrics' 11-px windows and the networks' fields
 * of view say nothing about a smaller image (a 1×1 pair would otherwise be "fused", with metrics).
 */
export const MIN_PAIR_SIDE = 16;

/** A pair refused before fusing, with the reason. */
export class PairRefusedError extends Error {
  override name = 'PairRefusedError';
}

/**
 * A pair whose aspect ratios differ (by over 1 %): one image would be stretched onto the other,
 * and whatever is fused from that is misaligned. Held until someone chooses an
 * {@link AspectPolicy}.
 */
export class AspectMismatchError extends PairRefusedError {
  override name = 'AspectMismatchError';
}

/**
 * For a pair whose aspect ratios differ: `refuse` it ({@link AspectMismatchError}), `stretch` the
 * visible image onto the infrared grid anyway, or `crop` the visible image to the infrared
 * aspect about its centre first.
 */
export type AspectPolicy = 'refuse' | 'stretch' | 'crop';

/** Whether two sizes differ in aspect ratio by more than 1 %. */
export function aspectsDiffer(a: { width: number; height: number }, b: { width: number; height: number }): boolean {
  return Math.abs(b.width / b.height - a.width / a.height) > 0.01 * (a.width / a.height);
}

/**
 * The visible image on the infrared grid (`width x height`), as `aspect` says for a pair whose
 * aspect ratios differ, with the notice that says what was done (none when nothing was).
 * @throws AspectMismatchError with `refuse` when the aspect ratios differ.
 */
export function fitVisible(vi: RawImage, width: number, height: number, aspect: AspectPolicy): { vi: RawImage; notice?: PipelineNotice } {
  if (vi.width === width && vi.height === height) return { vi };
  const ir = { width, height };
  const size = (s: { width: number; height: number }) => `${s.width}x${s.height}`;
  if (!aspectsDiffer(ir, vi)) {
    return { vi: resizeImage(vi, width, height), notice: { level: 'warn', code: 'resized', message: `visible image ${size(vi)} resized to the infrared size ${size(ir)}` } };
  }
  const ratios = `infrared ${size(ir)} (${(width / height).toFixed(2)}), visible ${size(vi)} (${(vi.width / vi.height).toFixed(2)})`;
  switch (aspect) {
    case 'refuse':
      throw new AspectMismatchError(`aspect ratios differ: ${ratios}; stretched, the pair would be misaligned`);
    case 'stretch':
      return { vi: resizeImage(vi, width, height), notice: { level: 'warn', code: 'resized', message: `visible image ${size(vi)} stretched to the infrared size ${size(ir)}, as chosen (aspect ratios differ: the pair may be misaligned)` } };
    case 'crop': {
      const cut = centreCropToAspect(vi, width / height);
      return { vi: resizeImage(cut, width, height), notice: { level: 'warn', code: 'cropped', message: `visible image ${size(vi)} centre-cropped to ${size(cut)} (the infrared aspect) and resized to ${size(ir)}, as chosen` } };
    }
  }
}

/**
 * Brings a pair to one grid: the visible image fitted to the infrared size ({@link fitVisible}),
 * both reduced to `maxSide` and, with a `budget`, to at most `budget.maxPixels` pixels once
 * padded to `budget.stride`; a notice for each change (also used by the worker's no-weights
 * baseline).
 * @throws PairRefusedError for an image below {@link MIN_PAIR_SIDE} on a side, or whose aspect
 *   ratio differs from the other's under the `refuse` policy.
 */
export function prepareInputs(
  irIn: RawImage, viIn: RawImage, maxSide: number, aspect: AspectPolicy = 'refuse', budget?: { maxPixels: number; stride: number },
): { ir: RawImage; vi: RawImage; scale: number; notices: PipelineNotice[] } {
  for (const [what, im] of [['infrared', irIn], ['visible', viIn]] as const) {
    if (Math.min(im.width, im.height) < MIN_PAIR_SIDE) {
      throw new PairRefusedError(`the ${what} image is ${im.width}x${im.height}: too small to fuse (at least ${MIN_PAIR_SIDE} px on each side)`);
    }
  }
  const notices: PipelineNotice[] = [];
  let ir = irIn;
  const fitted = fitVisible(viIn, ir.width, ir.height, aspect);
  let vi = fitted.vi;
  if (fitted.notice) notices.push(fitted.notice);
  let fit = fitMaxSide(ir.width, ir.height, maxSide);
  let why = `is above ${maxSide} px`;
  if (budget) {
    const byPixels = fitMaxPixels(fit.width, fit.height, budget.maxPixels, budget.stride);
    if (byPixels.scale !== 1) {
      fit = { width: byPixels.width, height: byPixels.height, scale: fit.scale * byPixels.scale };
      why = `is above ${(budget.maxPixels / 1e6).toPrecision(3)} megapixels, the most this device runs in one pass`;
    }
  }
  if (fit.scale !== 1) {
    notices.push({ level: 'info', code: 'downscaled', message: `${ir.width}x${ir.height} ${why}: processed at ${fit.width}x${fit.height}` });
    ir = resizeImage(ir, fit.width, fit.height);
    vi = resizeImage(vi, fit.width, fit.height);
  }
  return { ir, vi, scale: fit.scale, notices };
}

/** Output of one pair, at the processed size `width x height`. */
export interface PipelineResult {
  /** Processed size in pixels (the IR size, or smaller when reduced to `maxSide`). */
  width: number;
  height: number;
  /** Processed size / IR size (1 unless reduced). Detections are in processed pixels. */
  scale: number;
  /** Fused Y as 8-bit grey, `width * height` values. */
  fusedY: Uint8Array;
  /** Fused colour image, RGBA, `width * height * 4` values (fused Y + visible Cb/Cr). */
  rgb: Uint8ClampedArray;
  /** Segmentation class index per pixel (0..8, MSRS classes), `width * height` values (empty without tasks). */
  seg: Uint8Array;
  /** Boxes `[x1,y1,x2,y2,cls,score]` in processed pixels, by decreasing score. */
  detections: Detection[];
  /** What was adapted (resizes, reductions, colour IR), coded for the UI. */
  notices: PipelineNotice[];
  /** The source images as processed (after any resize), e.g. for fusion metrics on the same grid. */
  ir: RawImage;
  vi: RawImage;
  /** Wall time of the model part in milliseconds (F + S + reads). */
  modelMs: number;
}

/** A fuser's image, checked. @throws when it is not `width x height`. */
function sameSize(fused: RawImage, width: number, height: number): RawImage {
  checkImage(fused, 'fused');
  if (fused.width !== width || fused.height !== height) throw new Error(`the fused image is ${fused.width}x${fused.height}, the pair ${width}x${height}`);
  return fused;
}

/** Another method's fused image at the processed size. @throws when it is not the infrared image's size. */
function externalFused(fused: RawImage, irIn: RawImage, scale: number, width: number, height: number): RawImage {
  checkImage(fused, 'fused');
  if (fused.width !== irIn.width || fused.height !== irIn.height) {
    throw new Error(`the fused image is ${fused.width}x${fused.height}, the infrared image ${irIn.width}x${irIn.height}`);
  }
  return scale === 1 ? fused : resizeImage(fused, width, height);
}

/** A ready pipeline over fixed model parameters. */
export interface Pipeline {
  run(ir: RawImage, vi: RawImage, opts?: PipelineRunOptions): Promise<PipelineResult>;
}

function checkImage(img: RawImage, what: string): void {
  const { width, height, channels, data } = img;
  if (!(width > 0 && height > 0 && Number.isInteger(width) && Number.isInteger(height))) {
    throw new Error(`${what} image has an invalid size ${width}x${height}`);
  }
  if (![1, 3, 4].includes(channels)) throw new Error(`${what} image has ${channels} channels (1, 3 or 4 expected)`);
  if (data.length !== width * height * channels) {
    throw new Error(`${what} image: ${data.length} bytes for ${width}x${height}x${channels}`);
  }
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * Creates the fuse + segment + detect pipeline over the given parameters.
 * @param models parameters of F (`fusion`) and S (`segdet`).
 * @param defs model definitions (default: F and S, imported directly so the bundle skips D and G).
 */
export function createPipeline(models: PipelineModels, defs: PipelineDefs = { fusion: fusionModel, segdet: segdetModel }): Pipeline {
  const stride = lcmStride(defs.fusion.stride, defs.segdet.stride);

  async function run(irIn: RawImage, viIn: RawImage, opts: PipelineRunOptions = {}): Promise<PipelineResult> {
    checkImage(irIn, 'infrared');
    checkImage(viIn, 'visible');
    const maxPixels = opts.maxPixels ?? backendMaxPixels();
    const budget = maxPixels !== undefined ? { maxPixels, stride } : undefined;
    const { ir, vi, scale, notices } = prepareInputs(irIn, viIn, opts.maxSide ?? DEFAULT_MAX_SIDE, opts.aspect, budget);
    if (!isGreyLike(ir, 2)) notices.push({ level: 'info', code: 'ir-colour', message: 'infrared image has colour: its luma (BT.601) is used' });

    const { width, height } = ir;
    const irY = imageToY(ir);
    const visible = splitYCbCr(vi);
    const external = opts.fused ? externalFused(opts.fused, irIn, scale, width, height)
      : opts.fuser ? sameSize(await opts.fuser(ir, vi), width, height) : null;
    // The colours the fused image is shown (and S sees it) in: its own, or the visible image's.
    const ownColours = external !== null && !isGreyLike(external);
    const { cb, cr } = ownColours ? splitYCbCr(external) : visible;
    const greyVisible = !ownColours && isGreyLike(vi);
    const tasks = opts.tasks ?? true;
    const sParams = models.segdet;
    if (tasks && !sParams) throw new Error('this pipeline has no segmenter S: run it with tasks off');

    const taskScale = opts.taskScale ?? DEFAULT_TASK_SCALE;
    if (!(taskScale > 0 && taskScale <= 1)) throw new Error(`taskScale must be in (0, 1], got ${taskScale}`);
    const taskSize = { height: Math.max(1, Math.round(height * taskScale)), width: Math.max(1, Math.round(width * taskScale)) };
    const shrunk = taskSize.height !== height || taskSize.width !== width;

    const t0 = now();
    const out = tf.tidy(() => {
      // F's output is clipped to [0,1] here: it ends in a sigmoid, but a stand-in or a
      // fine-tuned variant need not, and S was trained on [0,1] inputs.
      const fusedP = external
        ? padToMultiple(planesToTensor([imageToY(external)], height, width), stride, opts.padMode)
        : tf.clipByValue(defs.fusion.apply(models.fusion, padToMultiple(planesToTensor([irY, visible.y], height, width), stride, opts.padMode)), 0, 1) as tf.Tensor4D;
      const fused = cropTo(fusedP, height, width);
      if (!tasks) return { fused };
      // S sees the fused image as the person does: F's Y in the visible image's colours.
      const chroma = greyVisible ? null : padToMultiple(planesToTensor([cb, cr], height, width), stride, opts.padMode);
      let rgb = fusedRgb(fusedP, chroma);
      if (shrunk) {
        const sized = tf.image.resizeBilinear(cropTo(rgb, height, width), [taskSize.height, taskSize.width], false, true);
        rgb = padToMultiple(sized, stride, opts.padMode);
      }
      const { seg, det } = defs.segdet.apply(sParams!, rgb);
      let logits = cropTo(seg, taskSize.height, taskSize.width);
      if (shrunk) logits = tf.image.resizeBilinear(logits, [height, width], false, true);
      const labels = tf.argMax(logits, 3);
      return { fused, labels, det };
    }) as { fused: tf.Tensor4D; labels?: tf.Tensor; det?: tf.Tensor4D };

    let fusedPlane: Float32Array;
    let seg = new Uint8Array(0);
    let detections: Detection[] = [];
    try {
      fusedPlane = (await out.fused.data()) as Float32Array;
      if (out.labels && out.det) {
        seg = Uint8Array.from((await out.labels.data()) as Int32Array);
        detections = await decodeDetections(out.det, {
          scoreThreshold: opts.scoreThreshold,
          nmsIoU: opts.nmsIoU,
          maxDetections: opts.maxDetections,
          inputHeight: taskSize.height,
          inputWidth: taskSize.width,
        });
        if (shrunk) {
          const sx = width / taskSize.width, sy = height / taskSize.height;
          detections = detections.map((d) => [d[0] * sx, d[1] * sy, d[2] * sx, d[3] * sy, d[4], d[5]] as Detection);
        }
      }
    } finally {
      tf.dispose([out.fused, out.labels, out.det].filter((t): t is tf.Tensor => t !== undefined));
    }
    const modelMs = now() - t0;

    return {
      width,
      height,
      scale,
      fusedY: planeToGrey8(fusedPlane),
      rgb: mergeYCbCr(fusedPlane, cb, cr),
      seg,
      detections,
      notices,
      ir,
      vi,
      modelMs,
    };
  }

  return { run };
}
