/**
 * TarDAL (Liu et al., CVPR 2022), its generator with the TarDAL++ weights: a densely connected
 * encoder on the stacked infrared and visible grey images and a four-layer fusion head ending in
 * tanh, clipped to [0,1]. Batch norms (inference statistics) are folded into the convolutions by
 * the converter. Grey in and colour out as its eval pipeline does: OpenCV's grey of the visible
 * image, the output truncated to 8 bits and put back in the visible image's OpenCV YCrCb chroma.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RawImage } from '../../types';
import { libpngGrey, opencvColourise, opencvGrey } from './library-colour';
import { conv, truncate8 } from './ops';
import { fullResolutionMacs, type PeerConv, type PeerDef, type PeerInput, type PeerParams } from './types';

const DIM = 32;
const DEPTH = 3;

const CONVS: PeerConv[] = [
  { name: 'encoder/0', k: 3, cin: 2, cout: DIM },
  ...Array.from({ length: DEPTH }, (_, i) => ({ name: `dense/${i}/0`, k: 3, cin: DIM * (i + 1), cout: DIM })),
  { name: 'fuse/0/0', k: 3, cin: DIM * (DEPTH + 1), cout: DIM * 4 },
  { name: 'fuse/1/0', k: 3, cin: DIM * 4, cout: DIM * 2 },
  { name: 'fuse/2/0', k: 3, cin: DIM * 2, cout: DIM },
  { name: 'fuse/3/0', k: 3, cin: DIM, cout: 1 },
];

/** The generator: infrared and visible grey, [1,H,W,1] each in [0,1] → fused grey in [0,1]. */
function net(p: PeerParams, [ir, vi]: tf.Tensor4D[]): tf.Tensor4D {
  return tf.tidy(() => {
    let x = tf.relu(conv(p, 'encoder/0', tf.concat([ir, vi], 3)));
    for (let i = 0; i < DEPTH; i++) x = tf.concat([x, tf.relu(conv(p, `dense/${i}/0`, x))], 3);
    for (const name of ['fuse/0/0', 'fuse/1/0', 'fuse/2/0']) x = tf.relu(conv(p, name, x));
    return tf.clipByValue(tf.tanh(conv(p, 'fuse/3/0', x)), 0, 1);
  });
}

function inputs(ir: RawImage, vi: RawImage): PeerInput[] {
  return [libpngGrey(ir), opencvGrey(vi)].map((g) => ({ data: Float32Array.from(g, (v) => v / 255), channels: 1 }));
}

/** The fused grey truncated to 8 bits, in the visible image's OpenCV chroma. */
function output(fused: Float32Array, _ir: RawImage, vi: RawImage): RawImage {
  const grey = new Uint8Array(fused.length);
  for (let i = 0; i < fused.length; i++) grey[i] = truncate8(Math.fround(fused[i] * 255));
  return opencvColourise(grey, vi);
}

export const tardal: PeerDef = {
  id: 'tardal',
  label: 'TarDAL',
  citation: 'Liu et al. Target-aware dual adversarial learning and a multi-scenario multi-modality benchmark to fuse infrared and visible for object detection. CVPR 2022.',
  convs: CONVS,
  macs: (h, w) => fullResolutionMacs(CONVS, h, w),
  inputs,
  net,
  outChannels: 1,
  // Eight 3×3 layers in a chain (the dense connections add none).
  reach: 8,
  output,
};
