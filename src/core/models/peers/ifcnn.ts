/**
 * IFCNN (Zhang et al., Information Fusion 2020), the IFCNN-MAX weights: ResNet-101's first
 * convolution (7×7, 64 channels, stride 1 here) and a 3×3 block on each image, their element-wise
 * maximum, a 3×3 block and a 1×1 convolution back to three channels. Every convolution pads by
 * repeating the edge; batch norms are folded into the convolutions by the converter. As
 * VIF-Benchmark's script runs it: both images read as grey (OpenCV), repeated to three channels
 * and normalised with the ImageNet mean and std; the output de-normalised, truncated to 8 bits,
 * made grey by OpenCV, and put in the visible image's Pillow chroma.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RawImage } from '../../types';
import { edgePadAround } from '../../image/pad';
import { libpngGrey, pillowColourise } from './library-colour';
import { conv, truncate8 } from './ops';
import { fullResolutionMacs, type PeerConv, type PeerDef, type PeerInput, type PeerParams } from './types';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

const CONVS: PeerConv[] = [
  { name: 'conv1', k: 7, cin: 3, cout: 64, bias: false },
  { name: 'conv2/conv', k: 3, cin: 64, cout: 64 },
  { name: 'conv3/conv', k: 3, cin: 64, cout: 64 },
  { name: 'conv4', k: 1, cin: 64, cout: 3 },
];
/** conv1 and conv2 run once per input image. */
const PER_INPUT = new Set(['conv1', 'conv2/conv']);

/** A normalised three-channel input from an 8-bit grey plane (`ToTensor` then `Normalize`). */
function normalised(grey: Uint8Array): PeerInput {
  const f = new Float32Array(grey.length * 3);
  for (let i = 0; i < grey.length; i++) {
    const v = Math.fround(grey[i] / 255);
    for (let c = 0; c < 3; c++) f[3 * i + c] = Math.fround((v - MEAN[c]) / STD[c]);
  }
  return { data: f, channels: 3 };
}

function inputs(ir: RawImage, vi: RawImage): PeerInput[] {
  return [normalised(libpngGrey(ir)), normalised(libpngGrey(vi))];
}

/** The network: two normalised [1,H,W,3] inputs → three normalised output channels. */
function net(p: PeerParams, [a, b]: tf.Tensor4D[]): tf.Tensor4D {
  return tf.tidy(() => {
    const features = (x: tf.Tensor4D) =>
      tf.relu(conv(p, 'conv2/conv', edgePadAround(conv(p, 'conv1', edgePadAround(x, 3), 'valid', false), 1), 'valid'));
    const fused = tf.maximum(features(a), features(b)) as tf.Tensor4D;
    return conv(p, 'conv4', tf.relu(conv(p, 'conv3/conv', edgePadAround(fused, 1), 'valid')), 'valid');
  });
}

/** De-normalised, clamped, ×255 and truncated per channel, made grey by OpenCV, in the visible image's Pillow chroma. */
function output(out: Float32Array, _ir: RawImage, vi: RawImage): RawImage {
  const n = vi.width * vi.height;
  const grey = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    // The channels are OpenCV's B, G, R.
    const ch = [0, 1, 2].map((c) => {
      const v = Math.fround(Math.fround(out[3 * i + c] * STD[c]) + MEAN[c]);
      return truncate8(Math.fround((v < 0 ? 0 : v > 1 ? 1 : v) * 255));
    });
    grey[i] = (ch[0] * 1868 + ch[1] * 9617 + ch[2] * 4899 + 8192) >> 14;
  }
  return pillowColourise(grey, vi);
}

export const ifcnn: PeerDef = {
  id: 'ifcnn',
  label: 'IFCNN',
  citation: 'Zhang et al. IFCNN: a general image fusion framework based on convolutional neural network. Information Fusion 54, 2020.',
  convs: CONVS,
  macs: (h, w) => fullResolutionMacs(CONVS, h, w, (c) => (PER_INPUT.has(c.name) ? 2 : 1)),
  inputs,
  net,
  outChannels: 3,
  // The 7×7 (3 px) and two 3×3 layers.
  reach: 5,
  output,
};
