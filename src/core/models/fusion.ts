/**
 * F, the fusion network: (IR, Y_vis) → fused Y.
 *
 * A small U-Net with most of its width at ½ and ¼ resolution (context is cheap there), ending in
 * a *soft selection* between the two sources plus a residual correction in logit space:
 *
 *   w = sigmoid(s + g·(IR − Y_vis)),   p = w·IR + (1 − w)·Y_vis,
 *   F = sigmoid(logit(clip(p)) + r),
 *
 * where s and r are the two output channels of the network and g is a learned gain (init 10,
 * stored as `head/gain` = g / 10 so that Adam, whose steps are about the learning rate in
 * parameter units, can move it as fast as the network can move s).
 * With the output layer initialised near zero, F starts as a smooth max(IR, Y_vis) — the usual
 * strong baseline — and training only has to learn where to depart from it (detail, saliency,
 * contrast), which makes it converge in a few thousand small steps.
 *
 * Layers (scale = input downsampling; MACs per input pixel):
 *   e0   3×3  2→8        @1     144      full-resolution detail
 *   e1   3×3  8→16  s2   @1     288
 *   e1b  3×3 16→16       @½     576
 *   e2   3×3 16→32  s2   @½     288
 *   m1   3×3 32→32       @¼     576
 *   m2   3×3 32→32       @¼     576      residual: m1 + relu(conv(m1))
 *   u1   1×1 32→16       @¼      32      lateral, nearest ×2, + e1b
 *   d1   3×3 16→16       @½     576
 *   u0   1×1 16→8        @½      32      lateral, nearest ×2, + e0
 *   d0   3×3  8→8        @1     576
 *   head 3×3  8→2        @1     144      (s, r)
 *   total 3 808 MACs/pixel (1.17 G at 640×480), 30 491 parameters.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../types';
import { applyConv, channel, initConvs, makeVariable, param, specIndex, specsMacs, type ConvSpec } from '../nn/layers';
import { upsampleAdd } from '../nn/upsample';
import { checkInput, countParams, type ModelDef } from './model-def';
import { webgpuPrograms } from '../nn/webgpu-programs';
import { fusionOutputWebgpu } from './fusion-head-webgpu';

const NAME = 'fusion';

/** The conv layers of F, in forward order. */
export const FUSION_LAYERS: readonly ConvSpec[] = [
  { name: 'e0', k: 3, cin: 2, cout: 8, stride: 1, scale: 1 },
  { name: 'e1', k: 3, cin: 8, cout: 16, stride: 2, scale: 1 },
  { name: 'e1b', k: 3, cin: 16, cout: 16, stride: 1, scale: 2 },
  { name: 'e2', k: 3, cin: 16, cout: 32, stride: 2, scale: 2 },
  { name: 'm1', k: 3, cin: 32, cout: 32, stride: 1, scale: 4 },
  // Residual branch: scaled-down init so the block starts close to identity.
  { name: 'm2', k: 3, cin: 32, cout: 32, stride: 1, scale: 4, initGain: 0.5 },
  { name: 'u1', k: 1, cin: 32, cout: 16, stride: 1, scale: 4, activation: 'linear' },
  { name: 'd1', k: 3, cin: 16, cout: 16, stride: 1, scale: 2 },
  { name: 'u0', k: 1, cin: 16, cout: 8, stride: 1, scale: 2, activation: 'linear' },
  { name: 'd0', k: 3, cin: 8, cout: 8, stride: 1, scale: 1 },
  // Near-zero output so that F starts as the soft max of the sources (see module comment).
  { name: 'head', k: 3, cin: 8, cout: 2, stride: 1, scale: 1, activation: 'linear', initGain: 0.01 },
];
const L = specIndex(FUSION_LAYERS);

/**
 * Initial selection gain g: w = sigmoid(g·(IR − Y_vis)) is a soft max with ~0.1 transition width.
 * The parameter `head/gain` holds g / FUSION_GAIN_SCALE (so it starts at 1).
 */
export const FUSION_INIT_GAIN = 10;
/** Units of the stored gain parameter. */
export const FUSION_GAIN_SCALE = 10;

/** Clip of the blended prior before the logit, keeping logit(p) finite (|logit| ≤ 6.9). */
const P_EPS = 1e-3;

function init(seed: number): Params {
  const params = initConvs(FUSION_LAYERS, seed);
  params['head/gain'] = makeVariable(new Float32Array([FUSION_INIT_GAIN / FUSION_GAIN_SCALE]), [1]);
  return params;
}

/**
 * Forward pass of F.
 * @param x [B,H,W,2] = (IR, Y_vis) in [0,1]; H, W multiples of 4.
 * @returns fused Y [B,H,W,1] in (0,1), owned by the caller.
 */
function apply(params: Params, x: tf.Tensor4D): tf.Tensor4D {
  checkInput(NAME, x, 2, fusion.stride);
  return tf.tidy(() => {
    const c = (name: string, t: tf.Tensor4D) => applyConv(params, L[name], t, NAME);
    const e0 = c('e0', x);
    const e1 = c('e1b', c('e1', e0));
    const m1 = c('m1', c('e2', e1));
    const m2 = tf.add(m1, c('m2', m1)) as tf.Tensor4D;
    const d1 = c('d1', upsampleAdd(c('u1', m2), e1));
    const d0 = c('d0', upsampleAdd(c('u0', d1), e0));
    const head = c('head', d0); // [B,H,W,2] = (s, r)
    const gainParam = param<tf.Rank.R1>(params, 'head/gain', NAME);
    if (webgpuPrograms()) return fusionOutputWebgpu(head, x, gainParam, FUSION_GAIN_SCALE, P_EPS);
    const s = channel(head, 0);
    const r = channel(head, 1);
    const ir = channel(x, 0);
    const vi = channel(x, 1);
    const gain = tf.mul(gainParam, FUSION_GAIN_SCALE);
    const w = tf.sigmoid(tf.add(s, tf.mul(gain, tf.sub(ir, vi))));
    const p = tf.clipByValue(tf.add(vi, tf.mul(w, tf.sub(ir, vi))), P_EPS, 1 - P_EPS);
    const logitP = tf.log(tf.div(p, tf.sub(1, p)));
    return tf.sigmoid(tf.add(logitP, r)) as tf.Tensor4D;
  });
}

/** F: fusion network, [B,H,W,2] (IR, Y_vis) → [B,H,W,1] fused Y via sigmoid. Stride 4. */
export const fusion: ModelDef<tf.Tensor4D> = {
  name: NAME,
  init,
  apply,
  stride: 4,
  macs: (h, w) => specsMacs(FUSION_LAYERS, h, w),
  paramCount: countParams,
};
