/**
 * SeAFusion (Tang, Yuan, Ma, Information Fusion 2022): two encoders of gradient residual dense
 * blocks (RGBD: a dense block plus a Sobel branch) on the infrared image and the visible Y, and a
 * four-layer decoder. The visible Y comes from RGB in [0,1] by BT.601 in floating point; the fused
 * Y takes the visible Cb/Cr back through the script's own YCbCr→RGB, and the RGB image is then
 * stretched to its own min..max and truncated to 8 bits (`save_img_single(is_norm=True)`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RawImage } from '../../types';
import { pillowGrey, rgbAt } from './library-colour';
import { conv, depthwise, truncate8 } from './ops';
import { fullResolutionMacs, type PeerConv, type PeerDef, type PeerInput, type PeerParams } from './types';

const CH = [16, 32, 48];

function rgbdConvs(prefix: string, cin: number, cout: number): PeerConv[] {
  return [
    { name: `${prefix}/dense/conv1/conv`, k: 3, cin, cout: cin },
    { name: `${prefix}/dense/conv2/conv`, k: 3, cin: 2 * cin, cout: cin },
    { name: `${prefix}/convdown/conv`, k: 1, cin: 3 * cin, cout },
    { name: `${prefix}/sobelconv/convx`, k: 3, cin, cout: cin, depthwise: true, bias: false },
    { name: `${prefix}/sobelconv/convy`, k: 3, cin, cout: cin, depthwise: true, bias: false },
    { name: `${prefix}/convup/conv`, k: 1, cin, cout },
  ];
}

const CONVS: PeerConv[] = [
  ...['vis', 'inf'].flatMap((s) => [
    { name: `${s}_conv/conv`, k: 3, cin: 1, cout: CH[0] },
    ...rgbdConvs(`${s}_rgbd1`, CH[0], CH[1]),
    ...rgbdConvs(`${s}_rgbd2`, CH[1], CH[2]),
  ]),
  { name: 'decode4/conv', k: 3, cin: 2 * CH[2], cout: 2 * CH[1] },
  { name: 'decode3/conv', k: 3, cin: 2 * CH[1], cout: 2 * CH[0] },
  { name: 'decode2/conv', k: 3, cin: 2 * CH[0], cout: CH[0] },
  { name: 'decode1/conv', k: 3, cin: CH[0], cout: 1 },
];

function rgbd(p: PeerParams, prefix: string, x: tf.Tensor4D): tf.Tensor4D {
  const lrelu = (t: tf.Tensor4D) => tf.leakyRelu(t, 0.2);
  let dense = tf.concat([x, lrelu(conv(p, `${prefix}/dense/conv1/conv`, x))], 3);
  dense = tf.concat([dense, lrelu(conv(p, `${prefix}/dense/conv2/conv`, dense))], 3);
  const down = conv(p, `${prefix}/convdown/conv`, dense);
  const sobel = tf.add(tf.abs(depthwise(p, `${prefix}/sobelconv/convx`, x)), tf.abs(depthwise(p, `${prefix}/sobelconv/convy`, x)));
  return tf.leakyRelu(tf.add(down, conv(p, `${prefix}/convup/conv`, sobel as tf.Tensor4D)), 0.1);
}

/** The network: visible Y and infrared, [1,H,W,1] each in [0,1] → fused Y in (0,1). */
function net(p: PeerParams, [viY, ir]: tf.Tensor4D[]): tf.Tensor4D {
  return tf.tidy(() => {
    const lrelu = (t: tf.Tensor4D) => tf.leakyRelu(t, 0.2);
    const encode = (s: string, x: tf.Tensor4D) => rgbd(p, `${s}_rgbd2`, rgbd(p, `${s}_rgbd1`, lrelu(conv(p, `${s}_conv/conv`, x))));
    let x = tf.concat([encode('vis', viY), encode('inf', ir)], 3);
    for (const d of ['decode4', 'decode3', 'decode2']) x = lrelu(conv(p, `${d}/conv`, x));
    return tf.add(tf.div(tf.tanh(conv(p, 'decode1/conv', x)), 2), 0.5);
  });
}

const clamp01 = (v: number) => Math.fround(v < 0 ? 0 : v > 1 ? 1 : v);

/** The script's RGB2YCrCb, in float32 on [0,1] (Y, Cb, Cr of pixel `i`). */
function ycbcr(vi: RawImage, i: number): [number, number, number] {
  const [r, g, b] = rgbAt(vi, i);
  const R = Math.fround(r / 255), G = Math.fround(g / 255), B = Math.fround(b / 255);
  const Y = Math.fround(0.299 * R + 0.587 * G + 0.114 * B);
  return [clamp01(Y), clamp01((B - Y) * 0.564 + 0.5), clamp01((R - Y) * 0.713 + 0.5)];
}

function inputs(ir: RawImage, vi: RawImage): PeerInput[] {
  const n = vi.width * vi.height;
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) y[i] = ycbcr(vi, i)[0];
  const irL = pillowGrey(ir);
  const irF = new Float32Array(n);
  for (let i = 0; i < n; i++) irF[i] = irL[i] / 255;
  return [{ data: y, channels: 1 }, { data: irF, channels: 1 }];
}

/** YCbCr2RGB with the visible chroma, clamped; then the image stretched to its own min..max, truncated. */
function output(fused: Float32Array, _ir: RawImage, vi: RawImage): RawImage {
  const n = vi.width * vi.height;
  const out = new Float32Array(n * 3);
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const [, cb, cr] = ycbcr(vi, i);
    const Y = fused[i], dr = cr - 0.5, db = cb - 0.5;
    const px = [Y + 1.403 * dr, Y - 0.714 * dr - 0.344 * db, Y + 1.773 * db];
    for (let c = 0; c < 3; c++) {
      const v = clamp01(px[c]);
      out[3 * i + c] = v;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const data = new Uint8Array(n * 3);
  const span = hi - lo || 1;
  for (let i = 0; i < n * 3; i++) data[i] = truncate8(Math.fround(Math.fround((out[i] - lo) / span) * 255));
  return { width: vi.width, height: vi.height, channels: 3, data };
}

export const seafusion: PeerDef = {
  id: 'seafusion',
  label: 'SeAFusion',
  citation: 'Tang, Yuan, Ma. Image fusion in the loop of high-level vision tasks. Information Fusion 82, 2022.',
  convs: CONVS,
  macs: (h, w) => fullResolutionMacs(CONVS, h, w),
  inputs,
  net,
  outChannels: 1,
  // 3×3 layers on the longest path: the first conv, two per RGBD block, four in the decoder.
  reach: 9,
  output,
};
