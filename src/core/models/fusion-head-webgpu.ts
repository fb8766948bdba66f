/**
 * F's output stage on WebGPU as programs of ours: from the head's two channels (s, r), the
 * sources and the gain, `σ(logit(clip(VI + σ(s + g·(IR − VI))·(IR − VI))) + r)` per pixel (see
 * `fusion.ts`). As tfjs ops that is about eighteen dispatches forward and thirty backward; here
 * one forward and three backward (the head's gradient, the gain's per pixel, their sum). The
 * derivatives follow tfjs's composites (the clip passes the gradient on its closed interval);
 * the Dawn tests hold them against the CPU.
 */
import * as tf from '@tensorflow/tfjs-core';
import { runProgram } from '../nn/webgpu-programs';

// Everything both directions need at pixel i: the clipped blend p, its gate w, the output o.
const COMMON = `
  fn sigm(v : f32) -> f32 { return 1.0 / (1.0 + exp(-v)); }
  struct Px { d : f32, w : f32, raw : f32, p : f32, o : f32 }
  fn pixel(i : i32) -> Px {
    var q : Px;
    let irv = f32(x[2 * i]);
    let viv = f32(x[2 * i + 1]);
    q.d = irv - viv;
    q.w = sigm(f32(head[2 * i]) + f32(gain[0]) * uniforms.scale * q.d);
    q.raw = viv + q.w * q.d;
    q.p = clamp(q.raw, uniforms.eps, 1.0 - uniforms.eps);
    q.o = sigm(log(q.p / (1.0 - q.p)) + f32(head[2 * i + 1]));
    return q;
  }
  // dOut/ds per unit upstream gradient (0 where the clip is active).
  fn dOutDs(q : Px) -> f32 {
    let inside = select(0.0, 1.0, q.raw >= uniforms.eps && q.raw <= 1.0 - uniforms.eps);
    return q.o * (1.0 - q.o) * inside / (q.p * (1.0 - q.p)) * q.d * q.w * (1.0 - q.w);
  }`;

const FORWARD = `
  ${COMMON}
  fn main(index : i32) {
    if (index < uniforms.size) { setOutputAtIndex(index, pixel(index).o); }
  }`;

// dL/d(head) [B,H,W,2]: channel 0 (s) and channel 1 (r).
const HEAD_GRAD = `
  ${COMMON}
  fn main(index : i32) {
    if (index < uniforms.size) {
      let i = index / 2;
      let q = pixel(i);
      let g = select(dOutDs(q), q.o * (1.0 - q.o), index % 2 == 1);
      setOutputAtIndex(index, g * f32(dy[i]));
    }
  }`;

// dL/d(gain) per pixel (summed afterwards).
const GAIN_GRAD = `
  ${COMMON}
  fn main(index : i32) {
    if (index < uniforms.size) {
      let q = pixel(index);
      setOutputAtIndex(index, dOutDs(q) * q.d * uniforms.scale * f32(dy[index]));
    }
  }`;

/**
 * F's output from its head `[B,H,W,2]`, its input `x` `[B,H,W,2]` = (IR, Y_vis) and `gain` `[1]`
 * (times `scale`), clipped to [eps, 1 − eps] before the logit. Differentiable in the head and
 * the gain (F's input is data: no gradient is taken for it).
 */
export function fusionOutputWebgpu(head: tf.Tensor4D, x: tf.Tensor4D, gain: tf.Tensor, scale: number, eps: number): tf.Tensor4D {
  const [b, h, w] = head.shape;
  const uniforms = { scale, eps };
  const op = tf.customGrad((...args: unknown[]) => {
    const [hd, g] = args as tf.Tensor[];
    (args[2] as tf.GradSaveFunc)([hd, g, x]);
    return {
      value: runProgram({ key: 'fusion_output', wgsl: FORWARD, inputs: { head: hd, x, gain: g }, outputShape: [b, h, w, 1], uniforms }),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const inputs = { head: saved[0], x: saved[2], gain: saved[1], dy };
        return [
          runProgram({ key: 'fusion_output_head_grad', wgsl: HEAD_GRAD, inputs, outputShape: [b, h, w, 2], uniforms }),
          tf.reshape(tf.sum(runProgram({ key: 'fusion_output_gain_grad', wgsl: GAIN_GRAD, inputs, outputShape: [b * h * w], uniforms })), [1]),
        ];
      },
    };
  }) as unknown as (hd: tf.Tensor, g: tf.Tensor) => tf.Tensor4D;
  return op(head, gain);
}
