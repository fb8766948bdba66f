/**
 * The trainable 2-D convolution of the project: NHWC, 'same' padding (TensorFlow's rule),
 * stride 1 or 2, odd square kernels, optional bias and fused activation.
 *
 * Why it exists: the WASM backend has no Conv2DBackpropFilter kernel, so `tf.conv2d`'s own
 * gradient cannot train there. This op's gradient is built only from kernels every backend has:
 *
 * * dW: a forward 'valid' convolution of the padded input with batch and channel axes swapped
 *   (`[C_in, H_p, W_p, B]`) by dy as the filter (`[H_o, W_o, B, C_out]`), dilated by the
 *   stride (dilation is fine in a forward conv; only tfjs's conv *gradient* lacks it). It gives
 *   `[C_in, k', k', C_out]`, of which the first k×k taps are the kernel gradient.
 * * dx: stride 1 — a forward 'same' conv of dy with the kernel rotated 180° and its in/out axes
 *   swapped; stride 2 — the same idea per output phase (polyphase), as one forward conv
 *   followed by depth-to-space. (tfjs's Conv2DBackpropInput exists on WASM but is 3-5× slower.)
 * * bias and activation gradients from the saved output (relu/leaky relu/sigmoid are functions
 *   of their output), so the forward pass can use the backends' fused conv + bias + activation.
 * * dW is taken only when the kernel is a gradient target (`split-grad.ts`), so a frozen kernel
 *   costs no dW; a 1×1 kernel's is one matmul.
 * * On WebGPU, dx and a k×k kernel's dW are the backend's own Conv2DBackpropInput and
 *   Conv2DBackpropFilter (one program each, see `nativeConvGrads`), and the activation's
 *   gradient one program of ours (`webgpu-programs.ts`).
 *
 * Tests compare both gradients with the native `tf.conv2d` gradient on the CPU backend.
 *
 * The entry point must register tfjs's gradient functions (for the ops around this one):
 * `@tensorflow/tfjs` in Node (`cli/node-backend.ts` does), or
 * `@tensorflow/tfjs-core/dist/register_all_gradients` under a bundler. (In Node that path is an
 * ESM file that plain Node cannot load, and under Vitest it loads a second copy of tfjs-core
 * whose gradients break depending on import order.)
 */
import * as tf from '@tensorflow/tfjs-core';
import { applySplitGrad } from './split-grad';
import { runExpression, webgpuPrograms, type Expression } from './webgpu-programs';

/** Activations the op can fuse. `leakyrelu` uses `alpha` (default 0.2). */
export type ConvActivation = 'linear' | 'relu' | 'leakyrelu' | 'sigmoid';

/** Options of {@link conv2d}. */
export interface ConvOptions {
  /** Spatial stride (both axes). Default 1. */
  stride?: 1 | 2;
  /** Activation applied after the bias. Default 'linear'. */
  activation?: ConvActivation;
  /** Negative slope of 'leakyrelu'. Default 0.2. */
  alpha?: number;
}

/** Sizes of TensorFlow's 'same' padding along one axis: output size and pad before/after. */
export function samePadding(size: number, k: number, stride: number): { out: number; before: number; after: number } {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + k - size, 0);
  const before = Math.floor(total / 2);
  return { out, before, after: total - before };
}

/**
 * Multiply-adds of one {@link conv2d} call on an `h`×`w` input (per batch item):
 * output pixels × k² × C_in × C_out. Bias and activation are not counted.
 */
export function convMacs(h: number, w: number, k: number, cin: number, cout: number, stride: 1 | 2 = 1): number {
  return Math.ceil(h / stride) * Math.ceil(w / stride) * k * k * cin * cout;
}

// A MAC tally that tests and reports switch on to check each model's `macs()` against what
// `apply` really runs. Off (null) in normal use, so it costs one comparison per call.
let macTally: { macs: number } | null = null;

/**
 * Runs `fn` and returns, with its result, the multiply-adds of all {@link conv2d} calls it made
 * (summed over the batch). For checking models' `macs()`; not reentrant.
 */
export function countConvMacs<T>(fn: () => T): { result: T; macs: number } {
  const prev = macTally;
  macTally = { macs: 0 };
  try {
    const result = fn();
    return { result, macs: macTally.macs };
  } finally {
    macTally = prev;
  }
}

/** Gradient of the activation given its output `y`, applied to the upstream gradient `dy`. */
function activationBackward(dy: tf.Tensor4D, y: tf.Tensor4D, act: ConvActivation, alpha: number): tf.Tensor4D {
  if (act !== 'linear' && webgpuPrograms()) return runExpression(ACTIVATION_GRAD[act], [dy, y], [alpha]) as tf.Tensor4D;
  switch (act) {
    case 'linear':
      return dy;
    case 'relu':
      // y > 0 exactly where the pre-activation is > 0; tf.step gives 1 there and 0 elsewhere.
      return tf.mul(dy, tf.step(y));
    case 'leakyrelu':
      // For alpha > 0 the output has the sign of the pre-activation.
      return tf.mul(dy, tf.step(y, alpha));
    case 'sigmoid':
      return tf.mul(dy, tf.mul(y, tf.sub(1, y)));
    default: {
      const never: never = act;
      throw new Error(`conv2d: unknown activation ${String(never)}`);
    }
  }
}

/** The same as one WebGPU program each (dy is `a`, y is `b`, alpha `u0`). */
export const ACTIVATION_GRAD: Record<Exclude<ConvActivation, 'linear'>, Expression> = {
  relu: { name: 'relu_grad', wgsl: 'select(0.0, a, b > 0.0)' },
  leakyrelu: { name: 'leakyrelu_grad', wgsl: 'select(a * u0, a, b > 0.0)' },
  sigmoid: { name: 'sigmoid_grad', wgsl: 'a * b * (1.0 - b)' },
};

/**
 * dL/dW of a 'same' conv, from forward convolutions only.
 * @param x input [B,H,W,Cin]; @param dz gradient at the pre-activation [B,Ho,Wo,Cout].
 * @returns [k,k,Cin,Cout]
 */
function filterGrad(x: tf.Tensor4D, dz: tf.Tensor4D, k: number, stride: 1 | 2): tf.Tensor4D {
  const [, h, w, cin] = x.shape;
  const cout = dz.shape[3];
  const ph = samePadding(h, k, stride);
  const pw = samePadding(w, k, stride);
  const xt = tf.transpose(x, [3, 1, 2, 0]) as tf.Tensor4D; // [Cin, H, W, B]
  const dt = tf.transpose(dz, [1, 2, 0, 3]) as tf.Tensor4D; // [Ho, Wo, B, Cout]
  // The forward pass's zero padding, given to the conv explicitly (cheaper than tf.pad).
  const pad: tf.backend_util.ExplicitPadding = [[0, 0], [ph.before, ph.after], [pw.before, pw.after], [0, 0]];
  let g = tf.conv2d(xt, dt, 1, pad, 'NHWC', stride); // [Cin, >=k, >=k, Cout]
  if (g.shape[1] !== k || g.shape[2] !== k) g = tf.slice(g, [0, 0, 0, 0], [cin, k, k, cout]);
  return tf.transpose(g, [1, 2, 0, 3]);
}

/**
 * Tap layout of the stride-2 input gradient along one axis (polyphase form). Output position
 * i = 2m + p (phase p) receives dy[m + d]·w[t] for every tap t with t = p + before − 2d.
 * Returns the window of offsets d (dMin..dMin+n−1) and, per phase and window slot, the tap
 * index (k means "no tap": a zero row appended to the kernel).
 */
function phaseTaps(k: number, before: number): { dMin: number; n: number; taps: number[][] } {
  let dMin = Infinity;
  let dMax = -Infinity;
  for (let p = 0; p < 2; p++) {
    for (let t = 0; t < k; t++) {
      if ((p + before - t) % 2 !== 0) continue;
      const d = (p + before - t) / 2;
      dMin = Math.min(dMin, d);
      dMax = Math.max(dMax, d);
    }
  }
  const n = dMax - dMin + 1;
  const taps = [0, 1].map((p) => Array.from({ length: n }, (_, a) => {
    const t = p + before - 2 * (a + dMin);
    return t >= 0 && t < k ? t : k;
  }));
  return { dMin, n, taps };
}

/**
 * dL/dx of a 'same' conv.
 *
 * Stride 1: a forward conv with the flipped, in/out-swapped kernel (valid because 'same'
 * padding is symmetric for odd k at stride 1).
 *
 * Stride 2: polyphase. Each of the four output phases (row parity × column parity) is a small
 * stride-1 conv of dy (2×2 taps for k = 3); all four run as one conv with 4·C_in output channels
 * followed by a depth-to-space shuffle. This does 4/9 of the work of a zero-inserted conv and, measured
 * on Node WASM, beats tfjs's Conv2DBackpropInput (a naive loop there) by 3-5×.
 */
function inputGrad(dz: tf.Tensor4D, w: tf.Tensor4D, xShape: [number, number, number, number], stride: 1 | 2): tf.Tensor4D {
  const [k, , cin, cout] = w.shape;
  if (stride === 1) {
    const wt = k === 1
      ? tf.transpose(w, [0, 1, 3, 2]) as tf.Tensor4D
      : tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    return tf.conv2d(dz, wt, 1, 'same');
  }
  const [b, h, wd] = xShape;
  const [, ho, wo] = dz.shape;
  const rows = phaseTaps(k, samePadding(h, k, 2).before);
  const cols = phaseTaps(k, samePadding(wd, k, 2).before);
  // Kernel with a zero tap appended on both spatial axes, so "no tap" is just index k.
  const wz = tf.pad(w, [[0, 1], [0, 1], [0, 0], [0, 0]]);
  const phases: tf.Tensor[] = [];
  for (let ph = 0; ph < 2; ph++) {
    const wr = tf.gather(wz, rows.taps[ph], 0);
    for (let pw = 0; pw < 2; pw++) {
      // [n_h, n_w, C_in, C_out] → [n_h, n_w, C_out, C_in]: dy's channels are the conv's input.
      phases.push(tf.transpose(tf.gather(wr, cols.taps[pw], 1), [0, 1, 3, 2]));
    }
  }
  // Output channel order (phase_h, phase_w, C_in), unpacked to space below.
  const kc = tf.reshape(tf.stack(phases, 3), [rows.n, cols.n, cout, 4 * cin]) as tf.Tensor4D;
  // Window offsets dMin..dMax around m: pad dy with zeros where the window leaves it.
  const padH: [number, number] = [Math.max(-rows.dMin, 0), Math.max(rows.dMin + rows.n - 1, 0)];
  const padW: [number, number] = [Math.max(-cols.dMin, 0), Math.max(cols.dMin + cols.n - 1, 0)];
  let src: tf.Tensor4D = dz;
  if (padH[0] + padH[1] + padW[0] + padW[1] > 0) src = tf.pad(dz, [[0, 0], padH, padW, [0, 0]]);
  // If dMin > 0 the window starts after m: crop the front instead of padding.
  const startH = Math.max(rows.dMin, 0);
  const startW = Math.max(cols.dMin, 0);
  if (startH > 0 || startW > 0) {
    src = tf.slice(src, [0, startH, startW, 0], [b, src.shape[1] - startH, src.shape[2] - startW, cout]);
  }
  let g = tf.conv2d(src, kc, 1, 'valid'); // [B, >=Ho, >=Wo, 4·C_in]
  if (g.shape[1] !== ho || g.shape[2] !== wo) g = tf.slice(g, [0, 0, 0, 0], [b, ho, wo, 4 * cin]);
  // Depth-to-space by reshape + transpose: tf.depthToSpace is ~10× slower on WASM.
  const g6 = tf.transpose(tf.reshape(g, [b, ho, wo, 2, 2, cin]), [0, 1, 3, 2, 4, 5]);
  let dx = tf.reshape(g6, [b, 2 * ho, 2 * wo, cin]) as tf.Tensor4D; // [B, 2Ho, 2Wo, C_in]
  if (dx.shape[1] !== h || dx.shape[2] !== wd) dx = tf.slice(dx, [0, 0, 0, 0], [b, h, wd, cin]);
  return dx;
}

/**
 * Backends on which the layers take the backend's own conv backprop kernels: one GPU program
 * each where the composites above dispatch five to twelve. The composites stay for WASM (which
 * has no such kernels) and CPU (the reference the tests compare them with).
 */
const NATIVE_GRAD_BACKENDS: ReadonlySet<string> = new Set(['webgpu']);

/** Whether the current backend runs the layers' gradients on its own backprop kernels. */
export function nativeConvGrads(): boolean {
  return NATIVE_GRAD_BACKENDS.has(tf.getBackend());
}

/**
 * dL/dW of a 1×1 stride-1 conv as one matmul, `xᵀ·dz` over all pixels: [C_in, C_out].
 * Cheaper everywhere than the channels-as-batch conv, which transposes both sides.
 */
function pointwiseFilterGrad(x: tf.Tensor4D, dz: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, cin] = x.shape;
  const cout = dz.shape[3];
  const g = tf.matMul(tf.reshape(x, [b * h * w, cin]), tf.reshape(dz, [b * h * w, cout]), true, false);
  return tf.reshape(g, [1, 1, cin, cout]);
}

/**
 * The conv (+ bias + activation) forward of a layer. On WebGPU the backend's fused kernel,
 * called directly: `tf.fused.conv2d` under a gradient tape runs the conv, the bias add and the
 * activation as three kernels (it cannot differentiate the fused one), and our layers bring
 * their own gradient. Elsewhere `tf.fused.*` as before: on WASM the fused kernel under a tape
 * gave S's gradients 1.8e-3 off CPU's (b12's squeeze-excite, against 2e-4 unfused), and WebGPU's
 * fused kernel stays within 6e-6 of CPU.
 */
export function fusedKernel(
  kernel: 'FusedConv2D' | 'FusedDepthwiseConv2D', x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D | null,
  stride: 1 | 2, act: ConvActivation, alpha: number,
): tf.Tensor4D {
  const leakyreluAlpha = act === 'leakyrelu' ? alpha : undefined;
  if (!webgpuPrograms()) {
    return kernel === 'FusedConv2D'
      ? tf.fused.conv2d({ x, filter: w, strides: stride, pad: 'same', bias: b ?? undefined, activation: act, leakyreluAlpha })
      : tf.fused.depthwiseConv2d({ x, filter: w, strides: stride, pad: 'same', bias: b ?? undefined, activation: act, leakyreluAlpha });
  }
  const inputs: tf.NamedTensorMap = b ? { x, filter: w, bias: b } : { x, filter: w };
  const attrs = { strides: stride, pad: 'same', dataFormat: 'NHWC', dilations: 1, activation: act, leakyreluAlpha };
  return tf.engine().runKernel(kernel, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** dL/dW by the backend's own Conv2DBackpropFilter. */
function nativeFilterGrad(x: tf.Tensor4D, dz: tf.Tensor4D, filterShape: number[], stride: 1 | 2): tf.Tensor4D {
  const attrs = { strides: stride, pad: 'same', dataFormat: 'NHWC', filterShape };
  return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: dz }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** The conv as a layer with its own gradients (see `split-grad.ts`). */
function apply(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D | null, stride: 1 | 2, act: ConvActivation, alpha: number): tf.Tensor4D {
  const k = w.shape[0];
  return applySplitGrad({
    forward: (xi) => fusedKernel('FusedConv2D', xi, w, b, stride, act, alpha),
    preActivationGrad: (dy, y) => activationBackward(dy, y, act, alpha),
    inputGrad: (dz, xShape) => {
      const shape = xShape as [number, number, number, number];
      return nativeConvGrads() ? tf.conv2dTranspose(dz, w, shape, stride, 'same') : inputGrad(dz, w, shape, stride);
    },
    paramGrads: (dz, xi) => {
      const dw = k === 1 && stride === 1 ? pointwiseFilterGrad(xi, dz)
        : nativeConvGrads() ? nativeFilterGrad(xi, dz, w.shape, stride) : filterGrad(xi, dz, k, stride);
      return b ? [dw, tf.sum(dz, [0, 1, 2])] : [dw];
    },
  }, x, b ? [w, b] : [w]);
}

/**
 * 2-D convolution with 'same' padding, trainable on every backend (see the module comment).
 *
 * @param x input [B,H,W,C_in], NHWC.
 * @param w kernel [k,k,C_in,C_out], k odd.
 * @param b optional bias [C_out].
 * @param opts stride (1 or 2) and activation.
 * @returns [B, ceil(H/stride), ceil(W/stride), C_out]; owned by the caller.
 * @throws if shapes or options do not fit.
 */
export function conv2d(
  x: tf.Tensor4D, w: tf.Tensor4D, b?: tf.Tensor1D | null, opts: ConvOptions = {},
): tf.Tensor4D {
  const stride = opts.stride ?? 1;
  const act = opts.activation ?? 'linear';
  const alpha = opts.alpha ?? 0.2;
  if (x.rank !== 4 || w.rank !== 4) throw new Error(`conv2d: x and w must be rank 4 (got ${x.rank}, ${w.rank})`);
  const [k, k2, cin, cout] = w.shape;
  if (k !== k2 || k % 2 !== 1) throw new Error(`conv2d: kernel must be square with odd size, got ${k}x${k2}`);
  if (x.shape[3] !== cin) throw new Error(`conv2d: input has ${x.shape[3]} channels, kernel expects ${cin}`);
  if (b && (b.rank !== 1 || b.shape[0] !== cout)) throw new Error(`conv2d: bias must be [${cout}], got [${b.shape}]`);
  if (stride !== 1 && stride !== 2) throw new Error(`conv2d: stride must be 1 or 2, got ${String(stride)}`);
  if (act === 'leakyrelu' && !(alpha > 0)) throw new Error('conv2d: leakyrelu alpha must be > 0');
  if (macTally) macTally.macs += x.shape[0] * convMacs(x.shape[1], x.shape[2], k, cin, cout, stride);
  return apply(x, w, b ?? null, stride, act, alpha);
}
