/**
 * `fusedRgb` on WebGPU as programs of ours: F's Y in the visible image's colours, clipped to
 * [0, 1], in one program (five tfjs ops), and its gradient in Y in one more. S sees this in
 * every task pass and the pipeline in every frame.
 */
import * as tf from '@tensorflow/tfjs-core';
import { runProgram } from '../nn/webgpu-programs';

// Output element (pixel i, channel c): y + m0[c]·(Cb − neutral) + m1[c]·(Cr − neutral); the
// chroma-to-RGB matrix and the neutral chroma come as uniforms.
const RGB_AT = `
  fn rgbAt(i : i32, c : i32) -> f32 {
    var m0 = array<f32, 3>(uniforms.m00, uniforms.m01, uniforms.m02);
    var m1 = array<f32, 3>(uniforms.m10, uniforms.m11, uniforms.m12);
    let cb = f32(chroma[2 * i]) - uniforms.neutral;
    let cr = f32(chroma[2 * i + 1]) - uniforms.neutral;
    return f32(y[i]) + m0[c] * cb + m1[c] * cr;
  }`;

const FORWARD = `${RGB_AT}
  fn main(index : i32) {
    if (index < uniforms.size) { setOutputAtIndex(index, clamp(rgbAt(index / 3, index % 3), 0.0, 1.0)); }
  }`;

// dL/dY: the three channels' gradients where the clip passed them (tfjs: on its closed interval).
const BACKWARD = `${RGB_AT}
  fn main(index : i32) {
    if (index < uniforms.size) {
      var g = 0.0;
      for (var c = 0; c < 3; c = c + 1) {
        let v = rgbAt(index, c);
        if (v >= 0.0 && v <= 1.0) { g = g + f32(dy[3 * index + c]); }
      }
      setOutputAtIndex(index, g);
    }
  }`;

/**
 * The fused RGB [B,H,W,3] from Y [B,H,W,1] and chroma [B,H,W,2] with the 2×3 chroma-to-RGB
 * matrix `m`, differentiable in Y (WebGPU only).
 */
export function fusedRgbWebgpu(y: tf.Tensor4D, chroma: tf.Tensor4D, m: readonly (readonly number[])[], neutral: number): tf.Tensor4D {
  const [b, h, w] = y.shape;
  const uniforms = {
    neutral, m00: m[0][0], m01: m[0][1], m02: m[0][2], m10: m[1][0], m11: m[1][1], m12: m[1][2],
  };
  const op = tf.customGrad((...args: unknown[]) => {
    const yi = args[0] as tf.Tensor4D;
    (args[1] as tf.GradSaveFunc)([yi, chroma]);
    return {
      value: runProgram({ key: 'fused_rgb', wgsl: FORWARD, inputs: { y: yi, chroma }, outputShape: [b, h, w, 3], uniforms }),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => runProgram({
        key: 'fused_rgb_grad', wgsl: BACKWARD, inputs: { y: saved[0], chroma: saved[1], dy }, outputShape: [b, h, w, 1], uniforms,
      }),
    };
  }) as unknown as (x: tf.Tensor) => tf.Tensor4D;
  return op(y);
}
