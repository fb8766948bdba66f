/**
 * S's work around its convolutions on WebGPU as programs of ours: the hard-swish and
 * squeeze-excite gates, and the decoder's joins, `relu(concat([l, up×2]))` (a bilinear ×2
 * upsampling in the graph's legacy alignment, a concat and a relu as tfjs ops) in one program
 * forward and two backward, and the decoder's squeeze-excite gate `f·σ(s)` in one each way.
 * The upsampling's weights are those of tfjs's WebGPU resize kernel (as `resizeBilinearAdjoint`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { applyExpressionOp, bilinearWeightWgsl, runProgram, type ExpressionOp } from '../nn/webgpu-programs';

/**
 * 1/6 as the shipped graph has it (a float16 constant, 0.1666259765625), for S's hard-swish and
 * gates on every backend. With the exact 1/6, S drifts from the graph it was measured as (heat
 * maps by 1e-3, boxes by up to 12 px over the 29 hard-swish and gate layers); with this
 * constant they agree to 2e-6.
 */
export const SIXTH = 0.1666259765625;

// ---------------------------------------------------------------------------------------------
// The hard activations, one program each way (four ops forward and about nine backward as
// tfjs composites). The derivative of relu6 is taken as tfjs takes it: 1 on (0, 6].

/** WGSL of hsigmoid(x) = relu6(x + 3)/6, and of its slope, for a WGSL expression `x`. */
const hard = (x: string) => `(clamp(${x} + 3.0, 0.0, 6.0) * ${SIXTH})`;
const hardSlope = (x: string) => `select(0.0, ${SIXTH}, ${x} > -3.0 && ${x} <= 3.0)`;

const HSWISH_OP: ExpressionOp = {
  forward: { name: 'hswish', wgsl: `a * ${hard('a')}` },
  grads: [{ name: 'hswish_grad', wgsl: `b * (${hard('a')} + a * ${hardSlope('a')})` }],
};
// A squeeze-excite's d·hsigmoid(s), s broadcast over height and width.
const GATE_OP: ExpressionOp = {
  forward: { name: 'hsigmoid_gate', wgsl: `a * ${hard('b')}` },
  grads: [
    { name: 'hsigmoid_gate_grad_x', wgsl: `c * ${hard('b')}` },
    { name: 'hsigmoid_gate_grad_s', wgsl: `c * a * ${hardSlope('b')}` },
  ],
};

/** Hard-swish `x·hsigmoid(x)` on WebGPU, differentiable. */
export function hswishWebgpu(x: tf.Tensor4D): tf.Tensor4D {
  return applyExpressionOp(HSWISH_OP, [x]) as tf.Tensor4D;
}

/** A squeeze-excite's gated features `d·hsigmoid(s)` (s [B,1,1,C]) on WebGPU, differentiable in both. */
export function hardGateWebgpu(d: tf.Tensor4D, s: tf.Tensor4D): tf.Tensor4D {
  return applyExpressionOp(GATE_OP, [d, s]) as tf.Tensor4D;
}

// ---------------------------------------------------------------------------------------------
// The decoder's joins

// Bilinear ×2 of `up` at output row/col (legacy alignment: source = out · ½), channel k.
const UPSAMPLED = `
  fn upsampled(b : i32, y : i32, x : i32, k : i32) -> f32 {
    let h = uniforms.upShape[1];
    let w = uniforms.upShape[2];
    let sy = f32(y) * 0.5;
    let sx = f32(x) * 0.5;
    let y0 = i32(sy);
    let x0 = i32(sx);
    let y1 = min(h - 1, i32(ceil(sy)));
    let x1 = min(w - 1, i32(ceil(sx)));
    let fy = sy - f32(y0);
    let fx = sx - f32(x0);
    let top = getUp(b, y0, x0, k) + (getUp(b, y0, x1, k) - getUp(b, y0, x0, k)) * fx;
    let bottom = getUp(b, y1, x0, k) + (getUp(b, y1, x1, k) - getUp(b, y1, x0, k)) * fx;
    return top + (bottom - top) * fy;
  }`;

const JOIN = `
  ${UPSAMPLED}
  fn main(index : i32) {
    if (index < uniforms.size) {
      let c = getCoordsFromIndex(index);
      let cl = uniforms.lShape[3];
      var v = 0.0;
      if (c[3] < cl) { v = getL(c[0], c[1], c[2], c[3]); } else { v = upsampled(c[0], c[1], c[2], c[3] - cl); }
      setOutputAtIndex(index, max(v, 0.0));
    }
  }`;

// dL/dl: the first channels of dy where the output is positive.
const JOIN_GRAD_L = `
  fn main(index : i32) {
    if (index < uniforms.size) {
      let c = getCoordsFromIndex(index);
      let o = getY(c[0], c[1], c[2], c[3]);
      setOutputAtIndex(index, select(0.0, getDy(c[0], c[1], c[2], c[3]), o > 0.0));
    }
  }`;

// dL/dup: the adjoint of the ×2 upsampling applied to the last channels of dy (where positive).
const JOIN_GRAD_UP = `
  ${bilinearWeightWgsl('0.5', '0.0')}
  fn main(index : i32) {
    if (index < uniforms.size) {
      let c = getCoordsFromIndex(index);
      let k = c[3] + uniforms.dyShape[3] - uniforms.outShape[3]; // after l's channels
      let h = uniforms.outShape[1];
      let w = uniforms.outShape[2];
      var sum = 0.0;
      for (var oy = max(0, 2 * c[1] - 2); oy < min(uniforms.dyShape[1], 2 * c[1] + 3); oy = oy + 1) {
        let wy = weight(oy, c[1], h);
        if (wy == 0.0) { continue; }
        for (var ox = max(0, 2 * c[2] - 2); ox < min(uniforms.dyShape[2], 2 * c[2] + 3); ox = ox + 1) {
          let wx = weight(ox, c[2], w);
          if (wx == 0.0 || getY(c[0], oy, ox, k) <= 0.0) { continue; }
          sum = sum + wy * wx * getDy(c[0], oy, ox, k);
        }
      }
      setOutputAtIndex(index, sum);
    }
  }`;

/** `relu(concat([l, upsampleBilinear(up, 2, false)], 3))` on WebGPU, differentiable in both. */
export function decoderJoinWebgpu(l: tf.Tensor4D, up: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, cl] = l.shape;
  const cu = up.shape[3];
  const op = tf.customGrad((...args: unknown[]) => {
    const [li, ui] = args as tf.Tensor4D[];
    const out = runProgram({ key: 'decoder_join', wgsl: JOIN, inputs: { l: li, up: ui }, outputShape: [b, h, w, cl + cu] });
    (args[2] as tf.GradSaveFunc)([out]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
        runProgram({ key: 'decoder_join_grad_l', wgsl: JOIN_GRAD_L, inputs: { y: saved[0], dy }, outputShape: [b, h, w, cl] }),
        runProgram({
          key: 'decoder_join_grad_up', wgsl: JOIN_GRAD_UP, inputs: { y: saved[0], dy }, outputShape: [...up.shape],
        }),
      ],
    };
  }) as unknown as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor4D;
  return op(l, up);
}

const SIGMOID_GATE: ExpressionOp = {
  forward: { name: 'sigmoid_gate', wgsl: 'a / (1.0 + exp(-b))' },
  grads: [
    { name: 'sigmoid_gate_grad_x', wgsl: 'c / (1.0 + exp(-b))' },
    { name: 'sigmoid_gate_grad_s', wgsl: 'c * a * (1.0 / (1.0 + exp(-b))) * (1.0 - 1.0 / (1.0 + exp(-b)))' },
  ],
};

/** `f·σ(s)` with s [B,1,1,C] (the decoder's squeeze-excite) on WebGPU, differentiable in both. */
export function sigmoidGateWebgpu(f: tf.Tensor4D, s: tf.Tensor4D): tf.Tensor4D {
  return applyExpressionOp(SIGMOID_GATE, [f, s]) as tf.Tensor4D;
}

// ---------------------------------------------------------------------------------------------
// Inference only (no gradient): a layer and the element-wise work after it in one program

const ACTIVATION_WGSL = `
  fn activate(z : f32) -> f32 {
    if (uniforms.act > 1.5) { return z * ${hard('z')}; }
    if (uniforms.act > 0.5) { return max(z, 0.0); }
    return z;
  }`;

/** Activations of the inference programs: linear, relu, hard-swish. */
export type InferenceActivation = 'linear' | 'relu' | 'hswish';
const ACT_CODE: Record<InferenceActivation, number> = { linear: 0, relu: 1, hswish: 2 };

// out[p, co] = act(b[co] + Σ_ci x[p, ci]·W[ci, co]) (+ r[p, co]).
const POINTWISE = (residual: boolean) => `
  ${ACTIVATION_WGSL}
  fn main(index : i32) {
    if (index < uniforms.size) {
      let cout = uniforms.outShape[3];
      let cin = uniforms.xShape[3];
      let p = index / cout;
      let co = index % cout;
      var z = f32(b[co]);
      for (var ci = 0; ci < cin; ci = ci + 1) { z = z + f32(x[p * cin + ci]) * f32(w[ci * cout + co]); }
      setOutputAtIndex(index, activate(z)${residual ? ' + f32(r[index])' : ''});
    }
  }`;

/** A 1×1 conv with bias, its activation and an optional residual added after it, as one program. */
export function pointwiseInferenceWebgpu(
  x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, act: InferenceActivation, residual?: tf.Tensor4D,
): tf.Tensor4D {
  const [bs, h, wd] = x.shape;
  return runProgram({
    key: residual ? 'pointwise_residual' : 'pointwise', wgsl: POINTWISE(!!residual),
    inputs: residual ? { x, w, b, r: residual } : { x, w, b }, outputShape: [bs, h, wd, w.shape[3]],
    uniforms: { act: ACT_CODE[act] },
  }) as tf.Tensor4D;
}

// A k×k depthwise conv, TensorFlow's 'same' padding, stride s, with bias and activation.
const DEPTHWISE = `
  ${ACTIVATION_WGSL}
  fn main(index : i32) {
    if (index < uniforms.size) {
      let o = getCoordsFromIndex(index);
      let k = i32(uniforms.k);
      let s = i32(uniforms.stride);
      let c = o[3];
      var z = f32(b[c]);
      for (var ky = 0; ky < k; ky = ky + 1) {
        let iy = o[1] * s - i32(uniforms.padTop) + ky;
        if (iy < 0 || iy >= uniforms.xShape[1]) { continue; }
        for (var kx = 0; kx < k; kx = kx + 1) {
          let ix = o[2] * s - i32(uniforms.padLeft) + kx;
          if (ix < 0 || ix >= uniforms.xShape[2]) { continue; }
          z = z + getX(o[0], iy, ix, c) * f32(w[(ky * k + kx) * uniforms.xShape[3] + c]);
        }
      }
      setOutputAtIndex(index, activate(z));
    }
  }`;

/** A depthwise k×k conv ('same', stride 1 or 2) with bias and its activation, as one program. */
export function depthwiseInferenceWebgpu(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, stride: 1 | 2, act: InferenceActivation): tf.Tensor4D {
  const [bs, h, wd, c] = x.shape;
  const k = w.shape[0];
  const ho = Math.ceil(h / stride), wo = Math.ceil(wd / stride);
  const padTop = Math.floor(Math.max((ho - 1) * stride + k - h, 0) / 2);
  const padLeft = Math.floor(Math.max((wo - 1) * stride + k - wd, 0) / 2);
  return runProgram({
    key: 'depthwise', wgsl: DEPTHWISE, inputs: { x, w, b }, outputShape: [bs, ho, wo, c],
    uniforms: { act: ACT_CODE[act], k, stride, padTop, padLeft },
  }) as tf.Tensor4D;
}

// A squeeze-excite's second conv and gate: d · hsigmoid(b2 + Σ_j h1[j]·W2[j, c]).
const SE_GATE = `
  fn main(index : i32) {
    if (index < uniforms.size) {
      let o = getCoordsFromIndex(index);
      let c = o[3];
      let cs = uniforms.hShape[3];
      var s = f32(b[c]);
      for (var j = 0; j < cs; j = j + 1) { s = s + getH(o[0], 0, 0, j) * f32(w[j * uniforms.outShape[3] + c]); }
      setOutputAtIndex(index, getDByOutputIndex(index) * ${hard('s')});
    }
  }`;

/** `d·hsigmoid(conv1×1(h1; W2, b2))` (a squeeze-excite's second conv and gate), as one program. */
export function seGateInferenceWebgpu(d: tf.Tensor4D, h1: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D): tf.Tensor4D {
  return runProgram({ key: 'se_gate', wgsl: SE_GATE, inputs: { d, h: h1, w, b }, outputShape: [...d.shape] }) as tf.Tensor4D;
}
