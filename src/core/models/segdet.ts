/**
 * S, the semantic network on the fused image: 9-class MSRS segmentation plus a CenterNet-style
 * detection head for person, bicycle and car.
 *
 * A plain strided encoder to stride 32 (one residual 3×3 block per scale, no normalisation so
 * train and eval behave the same) and a light FPN decoder back to ¼ resolution, where both heads
 * sit. Segmentation logits are upsampled ×4 bilinearly (half-pixel centres) to the input size.
 *
 * Layers (scale = input downsampling; MACs per input pixel):
 *   encoder
 *   c1   3×3   1→16  s2  @1      36
 *   c2   3×3  16→32  s2  @½     288
 *   c3   3×3  32→32      @¼     576   residual
 *   c4   3×3  32→64  s2  @¼     288
 *   c5   3×3  64→64      @⅛     576   residual
 *   c6   3×3  64→128 s2  @⅛     288
 *   c7   3×3 128→128     @1/16  576   residual
 *   c8   3×3 128→256 s2  @1/16  288
 *   c9   3×3 256→256     @1/32  576   residual
 *   decoder (laterals 1×1, nearest ×2 up, add, 3×3 smooth)
 *   l5   1×1 256→64      @1/32   16
 *   l4   1×1 128→64      @1/16   32
 *   p4   3×3  64→64      @1/16  144
 *   l3   1×1  64→64      @⅛      64
 *   p3   3×3  64→64      @⅛     576
 *   l2   1×1  32→64      @¼     128
 *   p2   3×3  64→32      @¼    1152
 *   heads at ¼
 *   seg  1×1  32→9       @¼      18   → bilinear ×4
 *   dh   3×3  32→32      @¼     576
 *   det  1×1  32→7       @¼      14   heat bias −2.19 (CenterNet's prior of 0.1)
 *   total 6 212 MACs/pixel (1.91 G at 640×480), 1 309 232 parameters.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../types';
import { NUM_DET_CLASSES, NUM_SEG_CLASSES } from '../types';
import { applyConv, initConvs, specIndex, specsMacs, type ConvSpec } from '../nn/layers';
import { upsampleAdd, upsampleBilinear } from '../nn/upsample';
import { checkInput, countParams, type ModelDef } from './model-def';

const NAME = 'segdet';

/** Channels of the detection head: 3 heat-map logits, 2 box size, 2 centre offset. */
export const DET_CHANNELS = NUM_DET_CLASSES + 4;

/** Initial heat-map logit bias: −log((1 − 0.1) / 0.1), CenterNet's focal-loss prior. */
export const HEAT_BIAS_INIT = -2.19;

/** Output stride of the detection head (det is [B, H/4, W/4, 7]). */
export const DET_STRIDE = 4;

const RES = 0.5; // init gain of residual branches: blocks start near identity

/** The conv layers of S, in forward order. */
export const SEGDET_LAYERS: readonly ConvSpec[] = [
  { name: 'c1', k: 3, cin: 1, cout: 16, stride: 2, scale: 1 },
  { name: 'c2', k: 3, cin: 16, cout: 32, stride: 2, scale: 2 },
  { name: 'c3', k: 3, cin: 32, cout: 32, stride: 1, scale: 4, initGain: RES },
  { name: 'c4', k: 3, cin: 32, cout: 64, stride: 2, scale: 4 },
  { name: 'c5', k: 3, cin: 64, cout: 64, stride: 1, scale: 8, initGain: RES },
  { name: 'c6', k: 3, cin: 64, cout: 128, stride: 2, scale: 8 },
  { name: 'c7', k: 3, cin: 128, cout: 128, stride: 1, scale: 16, initGain: RES },
  { name: 'c8', k: 3, cin: 128, cout: 256, stride: 2, scale: 16 },
  { name: 'c9', k: 3, cin: 256, cout: 256, stride: 1, scale: 32, initGain: RES },
  { name: 'l5', k: 1, cin: 256, cout: 64, stride: 1, scale: 32, activation: 'linear' },
  { name: 'l4', k: 1, cin: 128, cout: 64, stride: 1, scale: 16, activation: 'linear' },
  { name: 'p4', k: 3, cin: 64, cout: 64, stride: 1, scale: 16 },
  { name: 'l3', k: 1, cin: 64, cout: 64, stride: 1, scale: 8, activation: 'linear' },
  { name: 'p3', k: 3, cin: 64, cout: 64, stride: 1, scale: 8 },
  { name: 'l2', k: 1, cin: 32, cout: 64, stride: 1, scale: 4, activation: 'linear' },
  { name: 'p2', k: 3, cin: 64, cout: 32, stride: 1, scale: 4 },
  { name: 'seg', k: 1, cin: 32, cout: NUM_SEG_CLASSES, stride: 1, scale: 4, activation: 'linear', initGain: 0.1 },
  { name: 'dh', k: 3, cin: 32, cout: 32, stride: 1, scale: 4 },
  {
    name: 'det', k: 1, cin: 32, cout: DET_CHANNELS, stride: 1, scale: 4, activation: 'linear', initGain: 0.1,
    biasInit: [...Array<number>(NUM_DET_CLASSES).fill(HEAT_BIAS_INIT), 0, 0, 0, 0],
  },
];
const L = specIndex(SEGDET_LAYERS);

/** Outputs of S. */
export interface SegDetOutput {
  /** Segmentation logits [B,H,W,9] at input resolution (MSRS classes, see `SEG_CLASSES`). */
  seg: tf.Tensor4D;
  /**
   * Detection head [B,H/4,W/4,7], raw: channels 0..2 heat-map logits (person, bicycle, car),
   * 3..4 box size, 5..6 centre offset, in the encoding of `detect/centernet.ts`.
   */
  det: tf.Tensor4D;
}

/**
 * Forward pass of S.
 * @param x Y image [B,H,W,1] in [0,1]; H, W multiples of 32.
 * @returns `{ seg, det }`, both owned by the caller.
 */
function apply(params: Params, x: tf.Tensor4D): SegDetOutput {
  checkInput(NAME, x, 1, segdet.stride);
  return tf.tidy(() => {
    const c = (name: string, t: tf.Tensor4D) => applyConv(params, L[name], t, NAME);
    const res = (name: string, t: tf.Tensor4D) => tf.add(t, c(name, t)) as tf.Tensor4D;
    const f4 = res('c3', c('c2', c('c1', x)));
    const f8 = res('c5', c('c4', f4));
    const f16 = res('c7', c('c6', f8));
    const f32 = res('c9', c('c8', f16));
    const p4 = c('p4', upsampleAdd(c('l5', f32), c('l4', f16)));
    const p3 = c('p3', upsampleAdd(p4, c('l3', f8)));
    const p2 = c('p2', upsampleAdd(p3, c('l2', f4)));
    const seg = upsampleBilinear(c('seg', p2), 4);
    const det = c('det', c('dh', p2));
    return { seg, det };
  });
}

/**
 * S: segmentation + detection, [B,H,W,1] Y → { seg: [B,H,W,9] logits, det: [B,H/4,W/4,7] }.
 * Stride 32.
 */
export const segdet: ModelDef<SegDetOutput> = {
  name: NAME,
  init: (seed) => initConvs(SEGDET_LAYERS, seed),
  apply,
  stride: 32,
  macs: (h, w) => specsMacs(SEGDET_LAYERS, h, w),
  paramCount: countParams,
};
