/**
 * Fusion losses: intensity (max / mean / saliency target / per-pixel weighted), Sobel gradient,
 * SSIM, the BDLFusion loss and adversarial losses.
 *
 * All images are NHWC single-channel tensors `[B,H,W,1]` in [0,1]. Every function returns a
 * tensor owned by the caller; intermediates are freed with `tf.tidy`.
 *
 * Backend note: every loss is differentiable on the WASM backend. Fixed filters (Sobel, SSIM
 * windows) go through {@link fixedConv}: a forward `tf.conv2d` with a constant kernel whose
 * input gradient is another forward conv (rotated kernel), never Conv2DBackpropFilter, and
 * not WASM's Conv2DBackpropInput either, which is 3–4× slower than a forward conv there.
 *
 * Gradient registration: tfjs-core alone registers no gradients. Entry points must import
 * them once (`@tensorflow/tfjs`, or `@tensorflow/tfjs-core/dist/register_all_gradients` in
 * bundled/Vitest code).
 */
import * as tf from '@tensorflow/tfjs-core';
import { webgpuPrograms } from '../nn/webgpu-programs';
import {
  scaledL1Webgpu, sobelMaxTargetWebgpu, ssimMapFromMomentsWebgpu, ssimMomentsWebgpu, weightedIntensityWebgpu,
} from './fusion-losses-webgpu';

function assertSingleChannel(x: tf.Tensor, what: string): void {
  if (x.rank !== 4 || x.shape[3] !== 1) {
    throw new Error(`${what}: expected a [B,H,W,1] tensor, got shape [${x.shape.join(',')}]`);
  }
}

/** Mean absolute difference of two same-shaped tensors (a scalar). */
export function l1(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.abs(tf.sub(a, b))) as tf.Scalar);
}

/**
 * Correlation (`tf.conv2d`, stride 1) of `x` `[B,H,W,C_in]` with a constant kernel given as
 * plain data `[kh,kw,C_in,C_out]`, differentiable w.r.t. `x` only. The input gradient is the
 * adjoint as a forward conv: dy correlated with the kernel rotated 180° and its in/out axes
 * swapped — 'same' for 'same' (odd kernels), or after padding dy by k−1 for 'valid'.
 * The kernels are rebuilt from plain data in both passes, so no tensor outlives the caller's
 * tidy while the tape still needs it.
 */
export function fixedConv(
  x: tf.Tensor4D, kernel: Float32Array, shape: [number, number, number, number], padding: 'same' | 'valid',
): tf.Tensor4D {
  const [kh, kw, cin, cout] = shape;
  if (padding === 'same' && (kh % 2 === 0 || kw % 2 === 0)) throw new Error('fixedConv: same padding needs odd kernels');
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.conv2d(args[0] as tf.Tensor4D, tf.tensor4d(kernel, shape), 1, padding),
    gradFunc: (dy: tf.Tensor4D) => {
      const rot = new Float32Array(kernel.length);
      for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let c = 0; c < cin; c++) for (let o = 0; o < cout; o++) {
        rot[((i * kw + j) * cout + o) * cin + c] = kernel[(((kh - 1 - i) * kw + (kw - 1 - j)) * cin + c) * cout + o];
      }
      const kr = tf.tensor4d(rot, [kh, kw, cout, cin]);
      const d = dy as tf.Tensor4D;
      if (padding === 'same') return tf.conv2d(d, kr, 1, 'same');
      return tf.conv2d(tf.pad(d, [[0, 0], [kh - 1, kh - 1], [kw - 1, kw - 1], [0, 0]]), kr, 1, 'valid');
    },
  }));
  return op(x) as tf.Tensor4D;
}

// ---------------------------------------------------------------------------------------------
// Saliency and intensity

/**
 * Infrared saliency map by global histogram contrast (LC, Zhai & Shah 2006):
 * `S(p) = Σ_q |I(p) − I(q)|` over all pixels q of the same image, computed from the 256-bin
 * histogram of the IR image quantised to 8 bits, then min–max normalised per image to [0,1]
 * (a constant image gives all zeros, i.e. the visible image is the target everywhere).
 *
 * Why this map: BDLFusion (like TarDAL) weights its target with an IR saliency mask computed
 * offline by a separate saliency detector; no pretrained detector can be used here, and LC is
 * the classic training-free choice: hot objects (pedestrians, engines) that stand out from the
 * IR background score high. It depends on the IR input only and carries no gradient.
 * Caveats: LC is two-sided (pixels far *below* the typical IR level, e.g. cold sky, score high
 * too), and it is computed per batch item, so a crop's map differs from the full image's; to
 * use full-image maps, compute them once and pass them as `saliency` to the losses below.
 *
 * @param ir `[B,H,W,1]` in [0,1].
 * @returns `[B,H,W,1]` in [0,1].
 */
export function irSaliency(ir: tf.Tensor4D): tf.Tensor4D {
  assertSingleChannel(ir, 'irSaliency');
  const [b, h, w] = ir.shape;
  return tf.tidy(() => {
    const n = h * w;
    const q = tf.cast(tf.round(tf.clipByValue(tf.mul(tf.reshape(ir, [b, n]), 255), 0, 255)), 'int32') as tf.Tensor2D;
    // Item i's levels go to bins 256·i … 256·i + 255 of one 1-D histogram. (A rank-2
    // denseBincount would count per row directly, but on WebGPU it counts only the first 256
    // values of each row: tfjs 4.22.)
    const offsets = tf.mul(tf.range(0, b, 1, 'int32'), tf.scalar(256, 'int32'));
    const idx = tf.add(q, tf.reshape(offsets, [b, 1]));
    // An empty weights tensor means "count".
    const counts = tf.denseBincount(tf.reshape(idx, [b * n]) as tf.Tensor1D, tf.tensor1d([], 'float32'), b * 256);
    const hist = tf.reshape(tf.cast(counts, 'float32'), [b, 256]) as tf.Tensor2D;
    // dist[k][g] = |g − k| / 255, so (hist @ dist)[g] = Σ_q |g − I(q)| in [0,1] units.
    const levels = tf.range(0, 256, 1, 'float32');
    const dist = tf.div(tf.abs(tf.sub(tf.reshape(levels, [256, 1]), tf.reshape(levels, [1, 256]))), 255);
    const lut = tf.matMul(hist, dist); // [B,256]
    const s = tf.reshape(tf.gather(tf.reshape(lut, [b * 256]), tf.reshape(idx, [b * n])), [b, h, w, 1]);
    const lo = tf.min(s, [1, 2, 3], true);
    const hi = tf.max(s, [1, 2, 3], true);
    return tf.div(tf.sub(s, lo), tf.maximum(tf.sub(hi, lo), 1e-12)) as tf.Tensor4D;
  });
}

/**
 * The BDLFusion intensity target `m·IR + (1 − m)·VI`.
 * @param saliency `[B,H,W,1]` map m in [0,1]; default {@link irSaliency}(ir).
 */
export function saliencyTarget(ir: tf.Tensor4D, vi: tf.Tensor4D, saliency?: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const m = saliency ?? irSaliency(ir);
    return tf.add(tf.mul(m, ir), tf.mul(tf.sub(1, m), vi)) as tf.Tensor4D;
  });
}

/** Intensity loss variants, see {@link intensityLoss}. */
export type IntensityMode = 'max' | 'mean' | 'saliency' | 'weighted';

export interface IntensityOptions {
  /** Per-pixel weights `[B,H,W,2]` = (w_ir, w_vi), required by mode `weighted` (gradients flow into them). */
  weights?: tf.Tensor4D;
  /** Precomputed saliency map `[B,H,W,1]` for mode `saliency` (default {@link irSaliency}(ir)). */
  saliency?: tf.Tensor4D;
}

/**
 * Intensity loss between the fused image F and the sources (a scalar).
 *
 * * `max`:      `mean|F − max(IR, VI)|`
 * * `mean`:     `mean|F − (IR + VI)/2|`
 * * `saliency`: `mean|F − (m·IR + (1−m)·VI)|`, m = {@link irSaliency} (BDLFusion target)
 * * `weighted`: `mean((w_ir·(IR − F))²) + mean((w_vi·(VI − F))²)` (TDFusion), weights from `opts`.
 *
 * @param fused, ir, vi `[B,H,W,1]` in [0,1].
 */
export function intensityLoss(
  fused: tf.Tensor4D, ir: tf.Tensor4D, vi: tf.Tensor4D, mode: IntensityMode, opts: IntensityOptions = {},
): tf.Scalar {
  return tf.tidy(() => {
    switch (mode) {
      case 'max': return l1(fused, tf.maximum(ir, vi));
      case 'mean': return l1(fused, tf.mul(tf.add(ir, vi), 0.5));
      case 'saliency': return l1(fused, saliencyTarget(ir, vi, opts.saliency));
      case 'weighted': {
        const wts = opts.weights;
        if (!wts || wts.rank !== 4 || wts.shape[3] !== 2) {
          throw new Error('intensityLoss(weighted): needs opts.weights of shape [B,H,W,2]');
        }
        if (webgpuPrograms()) return weightedIntensityWebgpu(fused, ir, vi, wts);
        const [wIr, wVi] = tf.split(wts, 2, 3);
        const a = tf.mean(tf.square(tf.mul(wIr, tf.sub(ir, fused))));
        const b = tf.mean(tf.square(tf.mul(wVi, tf.sub(vi, fused))));
        return tf.add(a, b) as tf.Scalar;
      }
      default: throw new Error(`intensityLoss: unknown mode '${mode as string}'`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Sobel and gradient loss

/**
 * Sobel kernels as one `[3,3,1,2]` filter: channel 0 = Sx (x to the right), channel 1 = Sy
 * (y downward). tf.conv2d is a correlation, so Sx responds positively to intensity that
 * increases to the right, Sy to intensity that increases downward.
 */
const SOBEL_KERNEL = (() => {
  const sx = [-1, 0, 1, -2, 0, 2, -1, 0, 1];
  const sy = [-1, -2, -1, 0, 0, 0, 1, 2, 1];
  const k = new Float32Array(18);
  for (let i = 0; i < 9; i++) { k[2 * i] = sx[i]; k[2 * i + 1] = sy[i]; }
  return k;
})();

/** Sx and Sy stacked as channels: `[B,H,W,1] -> [B,H,W,2]` (zero padding, 'same'). */
function sobelXY(x: tf.Tensor4D): tf.Tensor4D {
  return fixedConv(x, SOBEL_KERNEL, [3, 3, 1, 2], 'same');
}

/**
 * Sobel responses of a single-channel image with zero padding ('same' size, as the
 * `padding=1` convolutions of the published fusion code). Unnormalised kernels: a ramp that
 * rises by 1 per pixel gives 8.
 *
 * @param x `[B,H,W,1]`.
 * @returns gx (rightward) and gy (downward), each `[B,H,W,1]`, owned by the caller.
 */
export function sobel(x: tf.Tensor4D): { gx: tf.Tensor4D; gy: tf.Tensor4D } {
  assertSingleChannel(x, 'sobel');
  const [gx, gy] = tf.tidy(() => tf.split(sobelXY(x), 2, 3) as tf.Tensor4D[]);
  return { gx, gy };
}

/** Gradient loss variants, see {@link gradientLoss}. */
export type GradientVariant = 'sobel-max' | 'abs-max';

/**
 * Gradient (texture) loss (a scalar).
 *
 * * `sobel-max` (TDFusion, default): `L1(Sx(F), Sx_max) + L1(Sy(F), Sy_max)`, where `S_max` takes
 *   per pixel the source response of larger magnitude, sign kept (IR wins ties).
 * * `abs-max` (SeAFusion style): `L1(|Sx F| + |Sy F|, max(|Sx IR| + |Sy IR|, |Sx VI| + |Sy VI|))`.
 *
 * @param fused, ir, vi `[B,H,W,1]` in [0,1].
 */
export function gradientLoss(
  fused: tf.Tensor4D, ir: tf.Tensor4D, vi: tf.Tensor4D, variant: GradientVariant = 'sobel-max',
): tf.Scalar {
  assertSingleChannel(fused, 'gradientLoss');
  return tf.tidy(() => {
    const gf = sobelXY(fused);
    // Sources share one conv call; they are data, so no gradient is taken through them.
    const sources = sobelXY(tf.concat([ir, vi], 0) as tf.Tensor4D);
    if (variant === 'sobel-max' && webgpuPrograms()) return scaledL1Webgpu(gf, sobelMaxTargetWebgpu(sources), 2);
    const [gi, gv] = tf.split(sources, 2, 0);
    if (variant === 'sobel-max') {
      // Mean over both channels = (L1_x + L1_y) / 2, so multiply by 2 for the sum of the two L1s.
      const target = tf.where(tf.greaterEqual(tf.abs(gi), tf.abs(gv)), gi, gv);
      return tf.mul(l1(gf, target), 2) as tf.Scalar;
    }
    if (variant === 'abs-max') {
      const mag = (g: tf.Tensor) => tf.sum(tf.abs(g), 3);
      return l1(mag(gf), tf.maximum(mag(gi), mag(gv)));
    }
    throw new Error(`gradientLoss: unknown variant '${variant as string}'`);
  });
}

// ---------------------------------------------------------------------------------------------
// SSIM

/** SSIM window and constants. */
export interface SsimOptions {
  /** `gaussian` (default, σ = 1.5) or `uniform` (box). */
  window?: 'gaussian' | 'uniform';
  /** Window side in pixels, odd (default 11). */
  size?: number;
  /** Gaussian σ in pixels (default 1.5). */
  sigma?: number;
  /** Data range L of the images (default 1): C1 = (0.01 L)², C2 = (0.03 L)². */
  dataRange?: number;
}

function window1d(opts: SsimOptions): Float32Array {
  const size = opts.size ?? 11;
  const w = new Float32Array(size);
  if ((opts.window ?? 'gaussian') === 'uniform') {
    w.fill(1 / size);
  } else {
    const sigma = opts.sigma ?? 1.5;
    const c = (size - 1) / 2;
    let s = 0;
    for (let i = 0; i < size; i++) { w[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma)); s += w[i]; }
    for (let i = 0; i < size; i++) w[i] /= s;
  }
  return w;
}

/**
 * Per-pixel SSIM map of two single-channel images (Wang et al. 2004): local means, variances
 * and covariance under a separable window (default Gaussian 11×11, σ = 1.5, as
 * skimage/pytorch-msssim), 'valid' filtering (no padding, so no border bias), weighted
 * population moments, C1 = (0.01 L)², C2 = (0.03 L)².
 *
 * Note: the SSIM *metric* of docs/metrics.md (7×7 uniform, sample covariance, reflect padding) lives
 * in metrics/; this is the training loss.
 *
 * @param a, b `[B,H,W,1]`, H and W at least the window size. Differentiable in both.
 * @returns `[B, H−size+1, W−size+1, 1]`.
 */
export function ssimMap(a: tf.Tensor4D, b: tf.Tensor4D, opts: SsimOptions = {}): tf.Tensor4D {
  assertSingleChannel(a, 'ssim');
  assertSingleChannel(b, 'ssim');
  const size = opts.size ?? 11;
  if (size % 2 !== 1) throw new Error(`ssim: window size must be odd, got ${size}`);
  const [, h, w] = a.shape;
  if (h < size || w < size) throw new Error(`ssim: image ${h}×${w} smaller than the ${size}×${size} window`);
  const range = opts.dataRange ?? 1;
  const c1 = (0.01 * range) ** 2;
  const c2 = (0.03 * range) ** 2;
  return tf.tidy(() => {
    const win = window1d(opts);
    const bs = a.shape[0];
    // One separable filtering pass over the five moment images stacked along the batch.
    const gpu = webgpuPrograms();
    const stack = gpu ? ssimMomentsWebgpu(a, b) : tf.concat([a, b, tf.mul(a, a), tf.mul(b, b), tf.mul(a, b)], 0) as tf.Tensor4D;
    const f = fixedConv(fixedConv(stack, win, [size, 1, 1, 1], 'valid'), win, [1, size, 1, 1], 'valid');
    if (gpu) return ssimMapFromMomentsWebgpu(f, c1, c2);
    const [mu1, mu2, e11, e22, e12] = tf.split(f, [bs, bs, bs, bs, bs], 0);
    const mu11 = tf.mul(mu1, mu1);
    const mu22 = tf.mul(mu2, mu2);
    const mu12 = tf.mul(mu1, mu2);
    const s11 = tf.sub(e11, mu11);
    const s22 = tf.sub(e22, mu22);
    const s12 = tf.sub(e12, mu12);
    const num = tf.mul(tf.add(tf.mul(mu12, 2), c1), tf.add(tf.mul(s12, 2), c2));
    const den = tf.mul(tf.add(tf.add(mu11, mu22), c1), tf.add(tf.add(s11, s22), c2));
    return tf.div(num, den) as tf.Tensor4D;
  });
}

/** Mean SSIM over the map and the batch (a scalar); 1 for identical images. See {@link ssimMap}. */
export function ssim(a: tf.Tensor4D, b: tf.Tensor4D, opts: SsimOptions = {}): tf.Scalar {
  return tf.tidy(() => tf.mean(ssimMap(a, b, opts)) as tf.Scalar);
}

/** `1 − SSIM(a, b)` (a scalar); 0 for identical images. See {@link ssimMap}. */
export function ssimLoss(a: tf.Tensor4D, b: tf.Tensor4D, opts: SsimOptions = {}): tf.Scalar {
  return tf.tidy(() => tf.sub(1, ssim(a, b, opts)) as tf.Scalar);
}

// ---------------------------------------------------------------------------------------------
// BDLFusion

export interface BdlFusionOptions {
  /** Precomputed saliency map `[B,H,W,1]` (default {@link irSaliency}(ir)). */
  saliency?: tf.Tensor4D;
  /** Weight of the SSIM term (default 1.1, as BDLFusion). */
  ssimWeight?: number;
  ssim?: SsimOptions;
}

/**
 * BDLFusion's fusion loss `L1(F, T) + 1.1·(1 − SSIM(F, T))` with the saliency target
 * `T = m·IR + (1 − m)·VI` (see {@link irSaliency}). The adversarial term is separate
 * ({@link generatorAdversarialLoss}). A scalar.
 *
 * @param fused, ir, vi `[B,H,W,1]` in [0,1], H and W ≥ the SSIM window (11).
 */
export function bdlFusionLoss(
  fused: tf.Tensor4D, ir: tf.Tensor4D, vi: tf.Tensor4D, opts: BdlFusionOptions = {},
): tf.Scalar {
  return tf.tidy(() => {
    const target = saliencyTarget(ir, vi, opts.saliency);
    const s = ssimLoss(fused, target, opts.ssim);
    return tf.add(l1(fused, target), tf.mul(s, opts.ssimWeight ?? 1.1)) as tf.Scalar;
  });
}

// ---------------------------------------------------------------------------------------------
// Adversarial

/**
 * Adversarial formulation: `lsgan` (least squares, Mao et al. 2017; targets 1 real / 0 fake on
 * the raw outputs) or `bce` (sigmoid cross-entropy on logits, non-saturating generator loss).
 * `bce` uses tfjs's Softplus kernel, which is overflow-safe on every backend and whose gradient
 * is exactly sigmoid(x) (a hand-built `relu(x) + log1p(e^−|x|)` gets the gradient at 0 wrong).
 */
export type AdversarialKind = 'lsgan' | 'bce';

/**
 * Generator (fusion network) adversarial loss from the discriminator's outputs on fused
 * images, any shape (per-patch scores are averaged). A scalar.
 *
 * * `lsgan` (default): `mean((D(F) − 1)²)`
 * * `bce`: `mean(softplus(−D(F)))` = `−mean(log σ(D(F)))`
 */
export function generatorAdversarialLoss(dFakeLogits: tf.Tensor, kind: AdversarialKind = 'lsgan'): tf.Scalar {
  return tf.tidy(() => {
    if (kind === 'lsgan') return tf.mean(tf.square(tf.sub(dFakeLogits, 1))) as tf.Scalar;
    return tf.mean(tf.softplus(tf.neg(dFakeLogits))) as tf.Scalar;
  });
}

/**
 * Discriminator loss from its outputs on real images (the saliency target) and on fused images.
 * A scalar.
 *
 * * `lsgan` (default): `½·mean((D(real) − 1)²) + ½·mean(D(fake)²)`
 * * `bce`: `mean(softplus(−D(real))) + mean(softplus(D(fake)))` (stable sigmoid cross-entropy)
 */
export function discriminatorLoss(
  dRealLogits: tf.Tensor, dFakeLogits: tf.Tensor, kind: AdversarialKind = 'lsgan',
): tf.Scalar {
  return tf.tidy(() => {
    if (kind === 'lsgan') {
      return tf.mul(tf.add(tf.mean(tf.square(tf.sub(dRealLogits, 1))), tf.mean(tf.square(dFakeLogits))), 0.5) as tf.Scalar;
    }
    return tf.add(tf.mean(tf.softplus(tf.neg(dRealLogits))), tf.mean(tf.softplus(dFakeLogits))) as tf.Scalar;
  });
}
