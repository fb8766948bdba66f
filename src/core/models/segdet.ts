/**
 * S, the semantic network on the fused image: a MobileNetV3 backbone (Howard et al., "Searching
 * for MobileNetV3", ICCV 2019) with the CenterNet decoder and detection head (Zhou et al.,
 * "Objects as Points", 2019) of a COCO-trained detector, plus a light segmentation head for the
 * 9 MSRS classes.
 *
 * The backbone, decoder and head follow, layer for layer, the graph of
 * github.com/610265158/mobilenetv3_centernet as `@vladmandic/human` ships it
 * (`models/centernet.json`); `cli/import-centernet.ts` copies its weights into these named
 * parameters (batch norm is already folded into them). Differences from that graph, all
 * deliberate:
 * * the input is RGB in [0,1], not 0–255 (scaled to 0–255 in front of the stem);
 * * any input size whose sides are multiples of 32 (the graph fixed its upsampling sizes to
 *   512×512 input);
 * * the class head keeps COCO's person, bicycle and car (classes 0, 1, 2) of its 80;
 * * every conv is trainable on every backend (`nn/conv.ts`, `nn/depthwise.ts`, and the
 *   decoder's bilinear ×2 through `nn/upsample.ts` in the graph's legacy alignment).
 *
 * Layout (scale = downsampling of the layer's input):
 *   stem   3×3 s2 conv 3→16, hard-swish                                          @1
 *   b0–b14 inverted residual blocks (expand 1×1, depthwise k×k, optional squeeze-excite,
 *          project 1×1; residual when shapes allow) to 120 channels at 1/32       @½…1/32
 *   extern 1×1 120→480, hard-swish                                               @1/32
 *   decoder: at 1/16, 1/8 and 1/4, a lateral ("reverse": 1×1, 5×5 depthwise, 1×1) of the
 *          backbone tap concatenated with the ×2-upsampled sum of two separable convs
 *          (3×3 and 5×5) of the coarser level; ReLU; at 1/4 a squeeze-excite → 128 channels
 *   det    separable 3×3 convs → 3 heat-map logits + 4 box distances                 @¼
 *   seg    1×1 128→48, 3×3 depthwise, 1×1 48→48, 1×1 → 9 logits at ¼, plus 1×1 16→9 of the
 *          stride-2 features at ½; bilinear ×2 twice to the input size.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../types';
import { NUM_DET_CLASSES, NUM_SEG_CLASSES } from '../types';
import { conv2d, convMacs } from '../nn/conv';
import { depthwiseConv2d, depthwiseMacs } from '../nn/depthwise';
import { makeVariable, param, spatialMean } from '../nn/layers';
import { Rng, deriveSeed } from '../nn/random';
import { upsampleBilinear } from '../nn/upsample';
import { webgpuPrograms } from '../nn/webgpu-programs';
import {
  SIXTH, decoderJoinWebgpu, depthwiseInferenceWebgpu, hardGateWebgpu, hswishWebgpu, pointwiseInferenceWebgpu,
  seGateInferenceWebgpu, sigmoidGateWebgpu,
} from './segdet-webgpu';
import { gradientTapeOn } from '../nn/split-grad';
import { checkInput, countParams, type ModelDef } from './model-def';

const NAME = 'segdet';

/** Initial heat-map logit bias of a fresh head: −log((1 − 0.1) / 0.1), CenterNet's prior. */
export const HEAT_BIAS_INIT = -2.19;
/** COCO class indices of person, bicycle and car: the imported head keeps these rows. */
export const COCO_CLASSES_KEPT = [0, 1, 2] as const;

/** The parts of S, input to output. */
export const SEGDET_PARTS = ['backbone', 'decoder', 'det', 'seg'] as const;
export type SegDetPart = (typeof SEGDET_PARTS)[number];

/** One trainable layer: a full conv (`conv`) or a depthwise conv (`dw`, cout = cin). */
export interface SLayer {
  name: string;
  type: 'conv' | 'dw';
  k: number;
  cin: number;
  cout: number;
  stride: 1 | 2;
  /** Fused activation; hard-swish and gates are applied outside the conv. */
  act: 'linear' | 'relu';
  bias: boolean;
  /** Downsampling of the layer's input relative to the model input. */
  scale: number;
  /** Which part of S the layer belongs to (training freezes parts separately). */
  part: SegDetPart;
  /** Names of the source graph's weights, for layers imported from the COCO detector. */
  src?: { kernel: string; bias?: string };
  /** Initial bias (fresh layers). */
  biasInit?: number;
  /** Multiplier on the He/Glorot init std (fresh layers). */
  initGain?: number;
}

/** An inverted-residual block of the backbone, as the source graph builds it. */
interface BlockSpec { expand: number | null; k: 3 | 5; stride: 1 | 2; out: number; act: 'relu' | 'hswish'; se: number | null }

/** MobileNetV3 blocks b0..b14 (expand channels, kernel, stride, output, activation, SE width). */
const BLOCKS: readonly BlockSpec[] = [
  { expand: null, k: 3, stride: 1, out: 16, act: 'relu', se: null },
  { expand: 64, k: 3, stride: 2, out: 24, act: 'relu', se: null },
  { expand: 72, k: 3, stride: 1, out: 24, act: 'relu', se: null },
  { expand: 72, k: 5, stride: 2, out: 32, act: 'relu', se: 24 },
  { expand: 96, k: 5, stride: 1, out: 32, act: 'relu', se: 24 },
  { expand: 96, k: 5, stride: 1, out: 32, act: 'relu', se: 24 },
  { expand: 192, k: 3, stride: 2, out: 64, act: 'hswish', se: null },
  { expand: 160, k: 3, stride: 1, out: 64, act: 'hswish', se: null },
  { expand: 144, k: 3, stride: 1, out: 64, act: 'hswish', se: null },
  { expand: 144, k: 3, stride: 1, out: 64, act: 'hswish', se: null },
  { expand: 384, k: 3, stride: 1, out: 88, act: 'hswish', se: 96 },
  { expand: 528, k: 3, stride: 1, out: 88, act: 'hswish', se: 136 },
  { expand: 528, k: 5, stride: 2, out: 120, act: 'hswish', se: 136 },
  { expand: 720, k: 5, stride: 1, out: 120, act: 'hswish', se: 184 },
  { expand: 720, k: 5, stride: 1, out: 120, act: 'hswish', se: 184 },
];

/** Decoder levels, coarse to fine: the lateral's backbone tap and widths. */
const LEVELS = [
  // c5 → upsampled to 1/16, joined with the 1/16 lateral of b11's output
  { up: 'c5u', upIn: 480, upOut: 128, lat: 'c4r', latIn: 88, latMid: 22, latOut: 128, scale: 16 },
  { up: 'c4u', upIn: 256, upOut: 96, lat: 'c3r', latIn: 96, latMid: 24, latOut: 96, scale: 8 },
  { up: 'c3u', upIn: 192, upOut: 64, lat: 'c2r', latIn: 72, latMid: 18, latOut: 64, scale: 4 },
] as const;

/** Width of the segmentation head at ¼ resolution. */
const SEG_WIDTH = 48;

const G = 'tower_0/'; // the source graph's name prefix for folded conv weights
const HEAD = 'CenternetHead/';

function blockSrc(i: number): string {
  return `MobilenetV3/expanded_conv${i === 0 ? '' : `_${i}`}`;
}

/** Builds the layer table (forward order) with each layer's source weights. */
function buildLayers(): SLayer[] {
  const L: SLayer[] = [];
  const conv = (name: string, k: number, cin: number, cout: number, o: Partial<SLayer> & Pick<SLayer, 'scale' | 'part'>) =>
    L.push({ name, type: 'conv', k, cin, cout, stride: 1, act: 'linear', bias: true, ...o });
  const dw = (name: string, k: number, c: number, o: Partial<SLayer> & Pick<SLayer, 'scale' | 'part'>) =>
    L.push({ name, type: 'dw', k, cin: c, cout: c, stride: 1, act: 'linear', bias: true, ...o });
  const folded = (p: string, w = 'Conv2D_weights') => ({ kernel: `${G}${p}/${w}`, bias: `${G}${p}/${w.replace('weights', 'bn_offset')}` });

  const part = 'backbone' as const;
  conv('stem', 3, 3, 16, { stride: 2, scale: 1, part, src: folded('MobilenetV3/Conv') });
  let cin = 16;
  let scale = 2;
  BLOCKS.forEach((b, i) => {
    const p = blockSrc(i);
    const mid = b.expand ?? cin;
    const relu = b.act === 'relu' ? 'relu' as const : 'linear' as const;
    if (b.expand) conv(`b${i}/expand`, 1, cin, mid, { act: relu, scale, part, src: folded(`${p}/expand`) });
    dw(`b${i}/dw`, b.k, mid, {
      stride: b.stride, act: relu, scale, part,
      src: { kernel: `${G}${p}/depthwise/depthwise_weights`, bias: `${G}${p}/depthwise/depthwise_bn_offset` },
    });
    scale *= b.stride;
    if (b.se) {
      const se = (j: string) => ({ kernel: `${p}/squeeze_excite/${j}/weights`, bias: `${p}/squeeze_excite/${j}/biases` });
      conv(`b${i}/se1`, 1, mid, b.se, { act: 'relu', scale: Infinity, part, src: se('Conv') });
      conv(`b${i}/se2`, 1, b.se, mid, { scale: Infinity, part, src: se('Conv_1') });
    }
    conv(`b${i}/project`, 1, mid, b.out, { scale, part, src: folded(`${p}/project`) });
    cin = b.out;
  });
  conv('extern', 1, 120, 480, { scale: 32, part, src: folded('extern1') });

  const dpart = 'decoder' as const;
  for (const lv of LEVELS) {
    const r = `${HEAD}${lv.lat.replace('r', '_reverse')}`;
    conv(`${lv.lat}/reduce`, 1, lv.latIn, lv.latMid, { act: 'relu', scale: lv.scale, part: dpart, src: folded(`${r}/1x1`) });
    dw(`${lv.lat}/dw`, 5, lv.latMid, { bias: false, scale: lv.scale, part: dpart, src: { kernel: `${r}/3x3/depthwise_weights` } });
    conv(`${lv.lat}/pw`, 1, lv.latMid, lv.latOut, { scale: lv.scale, part: dpart, src: folded(`${r}/3x3`, 'separable_conv2d_weights') });
    const u = `${HEAD}${lv.up.replace('u', '_upsample')}`;
    for (const [br, k] of [['x', 3], ['y', 5]] as const) {
      const p = `${u}/branch_${br}_upsample_resize`;
      dw(`${lv.up}/${br}/dw`, k, lv.upIn, { bias: false, scale: lv.scale * 2, part: dpart, src: { kernel: `${p}/depthwise_weights` } });
      conv(`${lv.up}/${br}/pw`, 1, lv.upIn, lv.upOut, { scale: lv.scale * 2, part: dpart, src: folded(p, 'separable_conv2d_weights') });
    }
  }
  conv('hse/a', 1, 128, 32, { act: 'relu', scale: Infinity, part: dpart, src: folded(`${HEAD}conv1x1_se_a`) });
  conv('hse/b', 1, 32, 128, { bias: false, scale: Infinity, part: dpart, src: { kernel: `${HEAD}conv1x1_se_b/weights` } });

  const out = (h: string) => `${HEAD}centernet_${h}_output/`;
  dw('cls/dw', 3, 128, { bias: false, scale: 4, part: 'det', src: { kernel: `${out('cls')}depthwise_weights` } });
  conv('cls/pw', 1, 128, NUM_DET_CLASSES, {
    scale: 4, part: 'det', biasInit: HEAT_BIAS_INIT, src: { kernel: `${out('cls')}pointwise_weights`, bias: `${out('cls')}biases` },
  });
  dw('box/dw', 3, 128, { bias: false, scale: 4, part: 'det', src: { kernel: `${out('wh')}depthwise_weights` } });
  conv('box/pw', 1, 128, 4, { scale: 4, part: 'det', src: { kernel: `${out('wh')}pointwise_weights`, bias: `${out('wh')}biases` } });

  const seg = 'seg' as const;
  conv('seg/reduce', 1, 128, SEG_WIDTH, { act: 'relu', scale: 4, part: seg });
  dw('seg/dw', 3, SEG_WIDTH, { act: 'relu', scale: 4, part: seg });
  conv('seg/mix', 1, SEG_WIDTH, SEG_WIDTH, { act: 'relu', scale: 4, part: seg });
  conv('seg/out', 1, SEG_WIDTH, NUM_SEG_CLASSES, { scale: 4, part: seg, initGain: 0.1 });
  conv('seg/low', 1, 16, NUM_SEG_CLASSES, { scale: 2, part: seg, initGain: 0.1 });
  return L;
}

/** The layers of S, in forward order. */
export const SEGDET_LAYERS: readonly SLayer[] = buildLayers();
const BY_NAME = new Map(SEGDET_LAYERS.map((l) => [l.name, l]));

/** Parameter names of the layers in `parts` (e.g. everything a head-only stage trains). */
export function segdetParamNames(parts: readonly SegDetPart[]): string[] {
  const out: string[] = [];
  for (const l of SEGDET_LAYERS) {
    if (!parts.includes(l.part)) continue;
    out.push(`${l.name}/kernel`);
    if (l.bias) out.push(`${l.name}/bias`);
  }
  return out;
}

/** Kernel shape of a layer's parameter. */
export function layerKernelShape(l: SLayer): number[] {
  return l.type === 'dw' ? [l.k, l.k, l.cin, 1] : [l.k, l.k, l.cin, l.cout];
}

/** Input scale of the stem: the source graph's 0–255 (S's input is scaled in front of it). */
const INPUT_SCALE = 255;

/**
 * Effective fan-in of a layer's kernel for He/Glorot init: k² for a depthwise conv, and the
 * stem's counts its 0–255 input range.
 */
export function segdetFanIn(name: string): number {
  const l = BY_NAME.get(name.replace(/\/(kernel|bias)$/, ''));
  if (!l) throw new Error(`${NAME}: no layer for '${name}'`);
  const fanIn = l.type === 'dw' ? l.k * l.k : l.k * l.k * l.cin;
  return l.name === 'stem' ? fanIn * INPUT_SCALE * INPUT_SCALE : fanIn;
}

function init(seed: number): Params {
  const params: Params = {};
  for (const l of SEGDET_LAYERS) {
    const rng = new Rng(deriveSeed(seed, l.name));
    const fanIn = segdetFanIn(l.name);
    const std = (l.initGain ?? 1) * Math.sqrt((l.act === 'relu' ? 2 : 1) / fanIn);
    const shape = layerKernelShape(l);
    params[`${l.name}/kernel`] = makeVariable(rng.normalArray(shape.reduce((a, b) => a * b, 1), 0, std), shape);
    if (l.bias) params[`${l.name}/bias`] = makeVariable(new Float32Array(l.cout).fill(l.biasInit ?? 0), [l.cout]);
  }
  return params;
}

/** Hard sigmoid `relu6(x + 3)/6`, MobileNetV3's gate. */
function hsigmoid(x: tf.Tensor4D): tf.Tensor4D {
  return tf.mul(tf.relu6(tf.add(x, 3)), SIXTH);
}

/** Hard-swish `x·relu6(x + 3)/6` (MobileNetV3). */
function hswish(x: tf.Tensor4D): tf.Tensor4D {
  return webgpuPrograms() ? hswishWebgpu(x) : tf.mul(x, hsigmoid(x));
}

/** A squeeze-excite's gated features `d·hsigmoid(s)`, s [B,1,1,C]. */
function hardGate(d: tf.Tensor4D, s: tf.Tensor4D): tf.Tensor4D {
  return webgpuPrograms() ? hardGateWebgpu(d, s) : tf.mul(d, hsigmoid(s));
}

/** Features of S that its heads read. */
export type SegDetFeatures = {
  /** Stride-2 backbone features (b0's output), [B,H/2,W/2,16]. */
  f2: tf.Tensor4D;
  /** The decoder's ¼-resolution features after its squeeze-excite, [B,H/4,W/4,128]. */
  f4: tf.Tensor4D;
};

/** Outputs of S. */
export type SegDetOutput = {
  /** Segmentation logits [B,H,W,9] at input resolution (MSRS classes, see `SEG_CLASSES`). */
  seg: tf.Tensor4D;
  /**
   * Detection head [B,H/4,W/4,7], raw: channels 0..2 heat-map logits (person, bicycle, car),
   * 3..6 box distances (left, top, right, bottom), decoded by `detect/centernet.ts`.
   */
  det: tf.Tensor4D;
};

function layerFn(params: Params) {
  return (name: string, x: tf.Tensor4D): tf.Tensor4D => {
    const l = BY_NAME.get(name);
    if (!l) throw new Error(`${NAME}: no layer '${name}'`);
    const w = param<tf.Rank.R4>(params, `${name}/kernel`, NAME);
    const b = l.bias ? param<tf.Rank.R1>(params, `${name}/bias`, NAME) : null;
    return l.type === 'dw'
      ? depthwiseConv2d(x, w, b, { stride: l.stride, activation: l.act })
      : conv2d(x, w, b, { stride: l.stride, activation: l.act });
  };
}

/** Backbone and decoder: the features both heads read (`segdet.apply` is heads of features). */
export function segdetFeatures(params: Params, x: tf.Tensor4D): SegDetFeatures {
  checkInput(NAME, x, 3, segdet.stride);
  return tf.tidy(() => {
    const c = layerFn(params);
    // On WebGPU a matmul: one program forward and one backward (tf.mean: a transpose and a
    // reduction forward, three element-wise ops backward). Elsewhere tf.mean, as S was measured.
    const mean = (t: tf.Tensor4D) => (webgpuPrograms() ? spatialMean(t) : tf.mean(t, [1, 2], true) as tf.Tensor4D);
    // On WebGPU at inference, a 1×1 or depthwise layer and the work after it (hard-swish, the
    // squeeze-excite gate, the residual add) run as one program of ours: S is ~100 small layers,
    // and on a GPU each program costs a fixed time. Under a gradient tape, the layers as ever.
    const fuse = webgpuPrograms() && !gradientTapeOn();
    const p = (name: string) => ({
      w: param<tf.Rank.R4>(params, `${name}/kernel`, NAME), b: param<tf.Rank.R1>(params, `${name}/bias`, NAME),
    });
    const pointwiseHswish = (name: string, t: tf.Tensor4D) => (fuse
      ? pointwiseInferenceWebgpu(t, p(name).w, p(name).b, 'hswish') : hswish(c(name, t)));
    // The stem keeps the source graph's kernel for 0–255 input (stored as float16, exactly).
    let h = hswish(c('stem', tf.mul(x, INPUT_SCALE) as tf.Tensor4D));
    let f2: tf.Tensor4D | null = null;
    const taps: tf.Tensor4D[] = [];
    BLOCKS.forEach((b, i) => {
      const hs = b.act === 'hswish';
      const mid = !b.expand ? h : hs ? pointwiseHswish(`b${i}/expand`, h) : c(`b${i}/expand`, h); // relu is fused
      if (i === 3 || i === 5) taps.push(mid); // the decoder's ¼ and ⅛ laterals read the expansions
      let d = fuse && hs
        ? depthwiseInferenceWebgpu(mid, p(`b${i}/dw`).w, p(`b${i}/dw`).b, b.stride, 'hswish')
        : hs ? hswish(c(`b${i}/dw`, mid)) : c(`b${i}/dw`, mid);
      if (b.se) {
        const h1 = c(`b${i}/se1`, mean(d));
        d = fuse ? seGateInferenceWebgpu(d, h1, p(`b${i}/se2`).w, p(`b${i}/se2`).b) : hardGate(d, c(`b${i}/se2`, h1));
      }
      const residual = b.stride === 1 && b.out === h.shape[3];
      h = fuse
        ? pointwiseInferenceWebgpu(d, p(`b${i}/project`).w, p(`b${i}/project`).b, 'linear', residual ? h : undefined)
        : residual ? tf.add(c(`b${i}/project`, d), h) as tf.Tensor4D : c(`b${i}/project`, d);
      if (i === 0) f2 = h;
      if (i === 11) taps.push(h);
    });
    const [tap4, tap8, tap16] = taps;
    const lat = { c4r: tap16, c3r: tap8, c2r: tap4 } as const;
    let top = pointwiseHswish('extern', h);
    for (const lv of LEVELS) {
      const up = tf.add(c(`${lv.up}/x/pw`, c(`${lv.up}/x/dw`, top)), c(`${lv.up}/y/pw`, c(`${lv.up}/y/dw`, top))) as tf.Tensor4D;
      const l = c(`${lv.lat}/pw`, c(`${lv.lat}/dw`, c(`${lv.lat}/reduce`, lat[lv.lat])));
      top = webgpuPrograms() ? decoderJoinWebgpu(l, up) : tf.relu(tf.concat([l, upsampleBilinear(up, 2, false)], 3));
    }
    const gate = c('hse/b', c('hse/a', mean(top)));
    const f4 = webgpuPrograms() ? sigmoidGateWebgpu(top, gate) : tf.mul(top, tf.sigmoid(gate)) as tf.Tensor4D;
    return { f2: f2!, f4 };
  });
}

/** Both heads on the features. */
export function segdetHeads(params: Params, f: SegDetFeatures): SegDetOutput {
  return tf.tidy(() => {
    const c = layerFn(params);
    const det = tf.concat([c('cls/pw', c('cls/dw', f.f4)), c('box/pw', c('box/dw', f.f4))], 3) as tf.Tensor4D;
    const s4 = c('seg/out', c('seg/mix', c('seg/dw', c('seg/reduce', f.f4))));
    const s2 = tf.add(upsampleBilinear(s4, 2), c('seg/low', f.f2)) as tf.Tensor4D;
    return { seg: upsampleBilinear(s2, 2), det };
  });
}

/**
 * Forward pass of S.
 * @param x fused RGB [B,H,W,3] in [0,1]; H, W multiples of 32.
 * @returns `{ seg, det }`, both owned by the caller.
 */
function apply(params: Params, x: tf.Tensor4D): SegDetOutput {
  return tf.tidy(() => segdetHeads(params, segdetFeatures(params, x)));
}

/** Exact multiply-adds of every conv for one h×w input (global-pooled SE convs count once). */
function macs(h: number, w: number): number {
  let total = 0;
  for (const l of SEGDET_LAYERS) {
    const sh = Number.isFinite(l.scale) ? Math.ceil(h / l.scale) : 1;
    const sw = Number.isFinite(l.scale) ? Math.ceil(w / l.scale) : 1;
    total += l.type === 'dw' ? depthwiseMacs(sh, sw, l.k, l.cin, l.stride) : convMacs(sh, sw, l.k, l.cin, l.cout, l.stride);
  }
  return total;
}

/** S: fused RGB [B,H,W,3] → { seg: [B,H,W,9] logits, det: [B,H/4,W/4,7] }. Stride 32. */
export const segdet: ModelDef<SegDetOutput> = {
  name: NAME,
  init,
  apply,
  stride: 32,
  macs,
  paramCount: countParams,
};
