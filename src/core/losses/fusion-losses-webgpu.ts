/**
 * SSIM's per-pixel work on WebGPU as programs of ours: the five moment images (a, b, a², b², ab)
 * stacked along the batch in one program, and the map from their filtered values in another,
 * each with one gradient program per input. As tfjs composites that is about thirty dispatches
 * for one SSIM and its gradient; here nine, the two separable window filters included.
 */
import * as tf from '@tensorflow/tfjs-core';
import { runProgram } from '../nn/webgpu-programs';

// Image k of the moment stack [5B,H,W,1]; inputs are read by flat index (raw buffers).
const MOMENTS = `
  fn main(index : i32) {
    if (index < uniforms.size) {
      let n = uniforms.aShape[0] * uniforms.aShape[1] * uniforms.aShape[2];
      let k = index / n;
      let i = index % n;
      let a = f32(a[i]);
      let b = f32(b[i]);
      var out = a;
      if (k == 1) { out = b; }
      if (k == 2) { out = a * a; }
      if (k == 3) { out = b * b; }
      if (k == 4) { out = a * b; }
      setOutputAtIndex(index, out);
    }
  }`;

// dL/da (uniforms.which = 0) or dL/db (1) from the stack's gradient dy [5B,H,W,1].
const MOMENTS_GRAD = `
  fn main(index : i32) {
    if (index < uniforms.size) {
      let n = uniforms.size;
      let a = f32(a[index]);
      let b = f32(b[index]);
      var out = 0.0;
      if (uniforms.which < 0.5) {
        out = dyAt(index) + 2.0 * a * dyAt(2 * n + index) + b * dyAt(4 * n + index);
      } else {
        out = dyAt(n + index) + 2.0 * b * dyAt(3 * n + index) + a * dyAt(4 * n + index);
      }
      setOutputAtIndex(index, out);
    }
  }
  fn dyAt(i : i32) -> f32 { return f32(dy[i]); }`;

// S = A·B / (C·D) from the filtered moments f [5B,h,w,1] = (μ1, μ2, E[x²], E[y²], E[xy]):
// A = 2μ1μ2 + C1, B = 2(E[xy] − μ1μ2) + C2, C = μ1² + μ2² + C1, D = E[x²] − μ1² + E[y²] − μ2² + C2.
const TERMS = `
  struct Ssim { m1 : f32, m2 : f32, a : f32, b : f32, c : f32, d : f32, s : f32 }
  fn ssimAt(i : i32, n : i32) -> Ssim {
    var r : Ssim;
    r.m1 = f32(f[i]);
    r.m2 = f32(f[n + i]);
    r.a = 2.0 * r.m1 * r.m2 + uniforms.c1;
    r.b = 2.0 * (f32(f[4 * n + i]) - r.m1 * r.m2) + uniforms.c2;
    r.c = r.m1 * r.m1 + r.m2 * r.m2 + uniforms.c1;
    r.d = (f32(f[2 * n + i]) - r.m1 * r.m1) + (f32(f[3 * n + i]) - r.m2 * r.m2) + uniforms.c2;
    r.s = r.a * r.b / (r.c * r.d);
    return r;
  }`;

const MAP = `
  ${TERMS}
  fn main(index : i32) {
    if (index < uniforms.size) {
      setOutputAtIndex(index, ssimAt(index, uniforms.size).s);
    }
  }`;

// dS/d(moment k) times dy, for the stack [5B,h,w,1].
const MAP_GRAD = `
  ${TERMS}
  fn main(index : i32) {
    if (index < uniforms.size) {
      let n = uniforms.size / 5;
      let k = index / n;
      let i = index % n;
      let r = ssimAt(i, n);
      let cd = r.c * r.d;
      var g = 0.0;
      if (k == 0) { g = (2.0 * r.m2 * (r.b - r.a) - r.s * 2.0 * r.m1 * (r.d - r.c)) / cd; }
      if (k == 1) { g = (2.0 * r.m1 * (r.b - r.a) - r.s * 2.0 * r.m2 * (r.d - r.c)) / cd; }
      if (k == 2 || k == 3) { g = -r.s / r.d; }
      if (k == 4) { g = 2.0 * r.a / cd; }
      setOutputAtIndex(index, g * f32(dy[i]));
    }
  }`;

/** The five moment images of `a` and `b` ([B,H,W,1] each) stacked: [5B,H,W,1], differentiable. */
export function ssimMomentsWebgpu(a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D {
  const [bs, h, w] = a.shape;
  const op = tf.customGrad((...args: unknown[]) => {
    const [x, y] = args as tf.Tensor4D[];
    (args[2] as tf.GradSaveFunc)([x, y]);
    return {
      value: runProgram({ key: 'ssim_moments', wgsl: MOMENTS, inputs: { a: x, b: y }, outputShape: [5 * bs, h, w, 1] }),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [0, 1].map((which) => runProgram({
        key: 'ssim_moments_grad', wgsl: MOMENTS_GRAD, inputs: { a: saved[0], b: saved[1], dy },
        outputShape: [bs, h, w, 1], uniforms: { which },
      })),
    };
  }) as unknown as (x: tf.Tensor, y: tf.Tensor) => tf.Tensor4D;
  return op(a, b);
}

/** SSIM's map [B,h,w,1] from the filtered moment stack [5B,h,w,1] (constants C1, C2), differentiable. */
export function ssimMapFromMomentsWebgpu(f: tf.Tensor4D, c1: number, c2: number): tf.Tensor4D {
  const [n5, h, w] = f.shape;
  const op = tf.customGrad((...args: unknown[]) => {
    const x = args[0] as tf.Tensor4D;
    (args[1] as tf.GradSaveFunc)([x]);
    return {
      value: runProgram({ key: 'ssim_map', wgsl: MAP, inputs: { f: x }, outputShape: [n5 / 5, h, w, 1], uniforms: { c1, c2 } }),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => runProgram({
        key: 'ssim_map_grad', wgsl: MAP_GRAD, inputs: { f: saved[0], dy }, outputShape: [n5, h, w, 1], uniforms: { c1, c2 },
      }),
    };
  }) as unknown as (x: tf.Tensor) => tf.Tensor4D;
  return op(f);
}

// TDFusion's weighted intensity loss per pixel: (w_ir·(IR − F))² + (w_vi·(VI − F))², w = [B,H,W,2].
const WEIGHTED = `
  fn main(index : i32) {
    if (index < uniforms.size) {
      let f = f32(fused[index]);
      let dIr = f32(wts[2 * index]) * (f32(ir[index]) - f);
      let dVi = f32(wts[2 * index + 1]) * (f32(vi[index]) - f);
      setOutputAtIndex(index, dIr * dIr + dVi * dVi);
    }
  }`;

// Its gradient: for F (output [B,H,W,1]) or for the weights (output [B,H,W,2]), times dy/N.
const WEIGHTED_GRAD = `
  fn main(index : i32) {
    if (index < uniforms.size) {
      var out = 0.0;
      if (uniforms.forWeights > 0.5) {
        let p = index / 2;
        let f = f32(fused[p]);
        let src = select(f32(vi[p]), f32(ir[p]), index % 2 == 0);
        out = 2.0 * f32(wts[index]) * (src - f) * (src - f);
      } else {
        let f = f32(fused[index]);
        let wIr = f32(wts[2 * index]);
        let wVi = f32(wts[2 * index + 1]);
        out = -2.0 * (wIr * wIr * (f32(ir[index]) - f) + wVi * wVi * (f32(vi[index]) - f));
      }
      setOutputAtIndex(index, out * f32(dy[0]) / uniforms.n);
    }
  }`;

/**
 * `mean((w_ir·(IR − F))²) + mean((w_vi·(VI − F))²)` (TDFusion's intensity term) on WebGPU,
 * differentiable in F and in the weights [B,H,W,2]: one program and a sum forward, one program
 * per input backward.
 */
export function weightedIntensityWebgpu(fused: tf.Tensor4D, ir: tf.Tensor4D, vi: tf.Tensor4D, weights: tf.Tensor4D): tf.Scalar {
  const n = fused.size;
  const op = tf.customGrad((...args: unknown[]) => {
    const [f, w] = args as tf.Tensor4D[];
    (args[2] as tf.GradSaveFunc)([f, w, ir, vi]);
    const perPixel = runProgram({ key: 'weighted_intensity', wgsl: WEIGHTED, inputs: { fused: f, wts: w, ir, vi }, outputShape: [n] });
    return {
      value: tf.div(tf.sum(perPixel), n) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [fs, ws, irs, vis] = saved;
        const inputs = { fused: fs, wts: ws, ir: irs, vi: vis, dy: tf.reshape(dy, [1]) };
        return [
          runProgram({ key: 'weighted_intensity_grad', wgsl: WEIGHTED_GRAD, inputs, outputShape: fs.shape, uniforms: { forWeights: 0, n } }),
          runProgram({ key: 'weighted_intensity_grad', wgsl: WEIGHTED_GRAD, inputs, outputShape: ws.shape, uniforms: { forWeights: 1, n } }),
        ];
      },
    };
  }) as unknown as (f: tf.Tensor, w: tf.Tensor) => tf.Scalar;
  return op(fused, weights);
}

// Per pixel and channel, the source Sobel response of larger magnitude (IR wins ties), from the
// sources' responses stacked [IR; VI] along the batch.
const SOBEL_MAX_TARGET = `
  fn main(index : i32) {
    if (index < uniforms.size) {
      let gi = f32(g[index]);
      let gv = f32(g[uniforms.size + index]);
      setOutputAtIndex(index, select(gv, gi, abs(gi) >= abs(gv)));
    }
  }`;

/** `sobel-max`'s target from the sources' Sobel responses stacked [IR; VI]: [B,H,W,2], a constant. */
export function sobelMaxTargetWebgpu(sourceSobel: tf.Tensor4D): tf.Tensor4D {
  const [b2, h, w, c] = sourceSobel.shape;
  return runProgram({ key: 'sobel_max_target', wgsl: SOBEL_MAX_TARGET, inputs: { g: sourceSobel }, outputShape: [b2 / 2, h, w, c] }) as tf.Tensor4D;
}

const ABS_DIFF = `
  fn main(index : i32) {
    if (index < uniforms.size) { setOutputAtIndex(index, abs(f32(x[index]) - f32(t[index]))); }
  }`;

// tfjs's gradient of |x − t|: dy·step(x − t, −1), i.e. −dy at a tie.
const ABS_DIFF_GRAD = `
  fn main(index : i32) {
    if (index < uniforms.size) {
      setOutputAtIndex(index, select(-1.0, 1.0, f32(x[index]) - f32(t[index]) > 0.0) * f32(dy[0]) * uniforms.scale);
    }
  }`;

/** `scale · mean|x − target|` on WebGPU, differentiable in x (the target is a constant). */
export function scaledL1Webgpu(x: tf.Tensor, target: tf.Tensor, scale: number): tf.Scalar {
  const n = x.size;
  const op = tf.customGrad((...args: unknown[]) => {
    const xi = args[0] as tf.Tensor;
    (args[1] as tf.GradSaveFunc)([xi, target]);
    return {
      value: tf.mul(tf.sum(runProgram({ key: 'abs_diff', wgsl: ABS_DIFF, inputs: { x: xi, t: target }, outputShape: [n] })), scale / n) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => runProgram({
        key: 'abs_diff_grad', wgsl: ABS_DIFF_GRAD, inputs: { x: saved[0], t: saved[1], dy: tf.reshape(dy, [1]) },
        outputShape: saved[0].shape, uniforms: { scale: scale / n },
      }),
    };
  }) as unknown as (x: tf.Tensor) => tf.Scalar;
  return op(x);
}
