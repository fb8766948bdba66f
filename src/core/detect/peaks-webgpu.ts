/**
 * The detection head's peak picking on WebGPU in one program of ours, read back in one
 * transfer: heat-map channels become σ(z) where σ(z) is the maximum of its 3×3 neighbourhood
 * (tfjs's 'same' max-pool, ties kept) and 0 elsewhere; the box channels pass through raw. As
 * tfjs ops that is five dispatches and two reads (the peaks and the raw head).
 */
import * as tf from '@tensorflow/tfjs-core';
import { runProgram } from '../nn/webgpu-programs';
import { NUM_DET_CLASSES } from '../types';

const PEAKS = `
  fn sigm(v : f32) -> f32 { return 1.0 / (1.0 + exp(-v)); }
  fn main(index : i32) {
    if (index < uniforms.size) {
      let c = getCoordsFromIndex(index);
      let z = getDet(c[0], c[1], c[2], c[3]);
      if (c[3] >= ${NUM_DET_CLASSES}) {
        setOutputAtIndex(index, z);
        return;
      }
      let v = sigm(z);
      var m = v;
      for (var dy = -1; dy <= 1; dy = dy + 1) {
        for (var dx = -1; dx <= 1; dx = dx + 1) {
          let yy = c[1] + dy;
          let xx = c[2] + dx;
          if (yy >= 0 && yy < uniforms.detShape[1] && xx >= 0 && xx < uniforms.detShape[2]) {
            m = max(m, sigm(getDet(c[0], yy, xx, c[3])));
          }
        }
      }
      setOutputAtIndex(index, select(0.0, v, v == m));
    }
  }`;

/** Peaks of the heat-map channels and the raw box channels of `det` [B,h,w,7], as one tensor. */
export function detectionPeaksWebgpu(det: tf.Tensor4D): tf.Tensor4D {
  return runProgram({ key: 'detection_peaks', wgsl: PEAKS, inputs: { det }, outputShape: [...det.shape] }) as tf.Tensor4D;
}
