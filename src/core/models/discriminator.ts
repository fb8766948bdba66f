/**
 * D, the patch discriminator of the adversarial fusion loss: a Y image → one realness logit per
 * 16×16 patch (PatchGAN-style, so it judges local texture and contrast rather than layout).
 *
 * Four stride-2 3×3 convs with leaky relu (slope 0.2, the usual GAN choice: no dead units and
 * a gradient for the generator everywhere), then a linear 3×3 conv to one logit. No
 * normalisation, so train and eval behave the same.
 *
 * Layers (scale = input downsampling; MACs per input pixel):
 *   d1   3×3  1→8   s2  @1       18
 *   d2   3×3  8→16  s2  @½       72
 *   d3   3×3 16→32  s2  @¼       72
 *   d4   3×3 32→64  s2  @⅛       72
 *   out  3×3 64→1       @1/16    2.25
 *   total 236.25 MACs/pixel (72.6 M at 640×480), 24 961 parameters.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../types';
import { applyConv, initConvs, specIndex, specsMacs, type ConvSpec } from '../nn/layers';
import { checkInput, countParams, type ModelDef } from './model-def';

const NAME = 'discriminator';

/** The conv layers of D, in forward order. */
export const DISCRIMINATOR_LAYERS: readonly ConvSpec[] = [
  { name: 'd1', k: 3, cin: 1, cout: 8, stride: 2, scale: 1, activation: 'leakyrelu', alpha: 0.2 },
  { name: 'd2', k: 3, cin: 8, cout: 16, stride: 2, scale: 2, activation: 'leakyrelu', alpha: 0.2 },
  { name: 'd3', k: 3, cin: 16, cout: 32, stride: 2, scale: 4, activation: 'leakyrelu', alpha: 0.2 },
  { name: 'd4', k: 3, cin: 32, cout: 64, stride: 2, scale: 8, activation: 'leakyrelu', alpha: 0.2 },
  { name: 'out', k: 3, cin: 64, cout: 1, stride: 1, scale: 16, activation: 'linear' },
];
const L = specIndex(DISCRIMINATOR_LAYERS);

/**
 * Forward pass of D.
 * @param x Y image [B,H,W,1] in [0,1]; H, W multiples of 16.
 * @returns realness logits [B,H/16,W/16,1] (no sigmoid), owned by the caller.
 */
function apply(params: Params, x: tf.Tensor4D): tf.Tensor4D {
  checkInput(NAME, x, 1, discriminator.stride);
  return tf.tidy(() => {
    let h = x;
    for (const s of DISCRIMINATOR_LAYERS) h = applyConv(params, L[s.name], h, NAME);
    return h;
  });
}

/** D: patch discriminator, [B,H,W,1] Y → [B,H/16,W/16,1] realness logits. Stride 16. */
export const discriminator: ModelDef<tf.Tensor4D> = {
  name: NAME,
  init: (seed) => initConvs(DISCRIMINATOR_LAYERS, seed),
  apply,
  stride: 16,
  macs: (h, w) => specsMacs(DISCRIMINATOR_LAYERS, h, w),
  paramCount: countParams,
};
