/**
 * G, TDFusion's loss generation module: (IR, Y_vis) → per-pixel logits whose softmax over the
 * two channels gives the intensity-loss weights (w_ir, w_vi).
 *
 * A two-scale U-Net (context at ½ resolution for region-level decisions, full resolution for
 * edges). The logits carry a learned prior `g·(IR − Y_vis)` on the IR channel and its negative
 * on the VI channel (g init 5, stored as `head/gain` = g / 5 so Adam moves it at a useful rate),
 * so G starts by weighting the brighter source — the common
 * max-intensity choice — and learns from the task loss where to depart from it. The output conv
 * starts near zero.
 *
 * Layers (scale = input downsampling; MACs per input pixel):
 *   g0   3×3  2→8        @1     144
 *   g1   3×3  8→16  s2   @1     288
 *   g2   3×3 16→16       @½     576
 *   gu   1×1 16→8        @½      32   lateral, nearest ×2, + g0
 *   g3   3×3  8→8        @1     576
 *   head 3×3  8→2        @1     144
 *   total 1 760 MACs/pixel (541 M at 640×480), 4 507 parameters.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../types';
import { applyConv, initConvs, makeVariable, param, specIndex, specsMacs, type ConvSpec } from '../nn/layers';
import { upsampleAdd } from '../nn/upsample';
import { checkInput, countParams, type ModelDef } from './model-def';

const NAME = 'lossGenerator';

/** The conv layers of G, in forward order. */
export const LOSS_GENERATOR_LAYERS: readonly ConvSpec[] = [
  { name: 'g0', k: 3, cin: 2, cout: 8, stride: 1, scale: 1 },
  { name: 'g1', k: 3, cin: 8, cout: 16, stride: 2, scale: 1 },
  { name: 'g2', k: 3, cin: 16, cout: 16, stride: 1, scale: 2 },
  { name: 'gu', k: 1, cin: 16, cout: 8, stride: 1, scale: 2, activation: 'linear' },
  { name: 'g3', k: 3, cin: 8, cout: 8, stride: 1, scale: 1 },
  { name: 'head', k: 3, cin: 8, cout: 2, stride: 1, scale: 1, activation: 'linear', initGain: 0.01 },
];
const L = specIndex(LOSS_GENERATOR_LAYERS);

/** Initial prior gain g: w_ir = sigmoid(2g·(IR − Y_vis)) at init. */
export const LOSS_GENERATOR_INIT_GAIN = 5;
/** Units of the stored gain parameter `head/gain` (it starts at 1). */
export const LOSS_GENERATOR_GAIN_SCALE = 5;

function init(seed: number): Params {
  const params = initConvs(LOSS_GENERATOR_LAYERS, seed);
  params['head/gain'] = makeVariable(new Float32Array([LOSS_GENERATOR_INIT_GAIN / LOSS_GENERATOR_GAIN_SCALE]), [1]);
  return params;
}

/**
 * Forward pass of G.
 * @param x [B,H,W,2] = (IR, Y_vis) in [0,1]; H, W multiples of 2.
 * @returns logits [B,H,W,2] (channel 0 → IR, 1 → VI); softmax over the last axis gives
 *   (w_ir, w_vi). Owned by the caller.
 */
function apply(params: Params, x: tf.Tensor4D): tf.Tensor4D {
  checkInput(NAME, x, 2, lossGenerator.stride);
  return tf.tidy(() => {
    const c = (name: string, t: tf.Tensor4D) => applyConv(params, L[name], t, NAME);
    const g0 = c('g0', x);
    const g2 = c('g2', c('g1', g0));
    const g3 = c('g3', upsampleAdd(c('gu', g2), g0));
    const logits = c('head', g3);
    // g·(IR − VI) on the IR logit and its negative on the VI logit; (IR − VI) is x · [1, −1]
    // summed over channels (channel-axis slices and concats are slow on WASM).
    const diff = tf.sum(tf.mul(x, tf.tensor1d([1, -1])), 3, true);
    const gain = tf.mul(param<tf.Rank.R1>(params, 'head/gain', NAME), LOSS_GENERATOR_GAIN_SCALE);
    const prior = tf.mul(gain, diff);
    return tf.add(logits, tf.mul(prior, tf.tensor1d([1, -1]))) as tf.Tensor4D;
  });
}

/** G: loss generator, [B,H,W,2] (IR, Y_vis) → [B,H,W,2] weight logits. Stride 2. */
export const lossGenerator: ModelDef<tf.Tensor4D> = {
  name: NAME,
  init,
  apply,
  stride: 2,
  macs: (h, w) => specsMacs(LOSS_GENERATOR_LAYERS, h, w),
  paramCount: countParams,
};
