/**
 * Image-fusion quality metrics, re-implemented to match the CDDFuse evaluator
 * (Zhaozixiang1228/MMIF-CDDFuse `utils/Evaluator.py`, run with numpy 1.24 / scipy 1.10 /
 * scikit-learn 1.2 / scikit-image 0.19), which most recent fusion papers report. See docs/metrics.md.
 *
 * Every image is a grey image on the 0..255 scale, row-major, `width * height` values, as
 * produced by {@link toMetricGrey}. Framework-free: plain typed arrays and float64 math, except
 * the grey conversion and SSIM, where `Math.fround` reproduces the reference's float32 arithmetic
 * (see {@link toMetricGrey} and {@link structuralSimilarity}). Other metrics that the reference
 * sums in float32 (SD, SF, AG, SCD, Qabf) differ from float64 by < 1e-6 relative.
 */
import type { FusionMetrics, RawImage } from '../types';

const f32 = Math.fround;

// OpenCV's float32 BT.601 weights (R2YF, G2YF, B2YF), rounded to float32 as OpenCV stores them.
const CR = f32(0.299);
const CG = f32(0.587);
const CB = f32(0.114);

/** numpy's `np.round`: round half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x); // rounds .5 towards +inf
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Converts a decoded image to the grey image the reference evaluator sees:
 * `np.round(cv2.cvtColor(cv2.imread(path).astype('float32'), cv2.COLOR_BGR2GRAY))`.
 *
 * OpenCV's float32 BGR→grey (SIMD path of `RGB2Gray<float>`) computes
 * `fma(R, 0.299f, fma(G, 0.587f, B * 0.114f))` in float32; the FMAs are reproduced exactly here
 * (an 8-bit value times a float32 weight is exact in float64, so one `fround` per FMA is one
 * rounding). The result is then rounded half-to-even like `np.round`. The float32 detail only
 * matters at exact .5 ties: 177 of 30 M pixels over the MSRS test VI and VIFB images, of which
 * 8 round differently without FMA (OpenCV's scalar tail of each row, or a non-FMA build) and 19
 * in exact float64; the golden values cannot tell these apart. Alpha is ignored, as
 * `cv2.imread` (IMREAD_COLOR) drops it; grey inputs are read as R = G = B. JPEGs must be
 * decoded as libjpeg does to match the evaluator: see `decodeJpegAsLibjpeg` (../image/jpeg.ts).
 * @returns grey values, integers in 0..255, length `width * height`.
 */
export function toMetricGrey(img: RawImage): Float64Array {
  const { width, height, channels, data } = img;
  const n = width * height;
  if (data.length < n * channels) throw new Error(`toMetricGrey: data has ${data.length} values, expected ${n * channels}`);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let r: number, g: number, b: number;
    if (channels === 1) {
      r = g = b = data[i];
    } else {
      r = data[i * channels];
      g = data[i * channels + 1];
      b = data[i * channels + 2];
    }
    const t = f32(b * CB);
    const u = f32(g * CG + t);
    out[i] = roundHalfEven(f32(r * CR + u));
  }
  return out;
}

function checkSize(name: string, w: number, h: number, ...imgs: Float64Array[]): void {
  if (!(w > 0 && h > 0 && Number.isInteger(w) && Number.isInteger(h))) throw new Error(`${name}: bad size ${w}x${h}`);
  for (const im of imgs) {
    if (im.length !== w * h) throw new Error(`${name}: image has ${im.length} values, expected ${w}x${h} = ${w * h}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Single-image metrics

/**
 * EN: Shannon entropy of the 256-bin grey histogram, in bits. Values are rounded and clipped
 * to 0..255 first (the reference casts `np.uint8(np.round(img))`).
 */
export function entropy(img: Float64Array): number {
  const hist = new Float64Array(256);
  for (let i = 0; i < img.length; i++) {
    const v = Math.min(255, Math.max(0, roundHalfEven(img[i])));
    hist[v]++;
  }
  let en = 0;
  for (let k = 0; k < 256; k++) {
    if (hist[k] > 0) {
      const p = hist[k] / img.length;
      en -= p * Math.log2(p);
    }
  }
  return en;
}

/** SD: population standard deviation of the grey values (0..255 scale). */
export function standardDeviation(img: Float64Array): number {
  let s = 0;
  for (let i = 0; i < img.length; i++) s += img[i];
  const mean = s / img.length;
  let ss = 0;
  for (let i = 0; i < img.length; i++) {
    const d = img[i] - mean;
    ss += d * d;
  }
  return Math.sqrt(ss / img.length);
}

/** SF: spatial frequency, `sqrt(mean(dx²) + mean(dy²))` with forward differences (grey levels). */
export function spatialFrequency(img: Float64Array, width: number, height: number): number {
  checkSize('spatialFrequency', width, height, img);
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 1; x < width; x++) {
      const d = img[row + x] - img[row + x - 1];
      sx += d * d;
    }
    if (y > 0) {
      for (let x = 0; x < width; x++) {
        const d = img[row + x] - img[row - width + x];
        sy += d * d;
      }
    }
  }
  return Math.sqrt(sx / (height * (width - 1)) + sy / ((height - 1) * width));
}

/**
 * AG: average gradient, mean of `sqrt((Gx² + Gy²) / 2)` where G is the central difference
 * inside the image and the one-sided difference on its border rows/columns (grey levels/pixel).
 */
export function averageGradient(img: Float64Array, width: number, height: number): number {
  checkSize('averageGradient', width, height, img);
  let s = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const gx = x === 0 ? img[i + 1] - img[i]
        : x === width - 1 ? img[i] - img[i - 1]
          : (img[i + 1] - img[i - 1]) / 2;
      const gy = y === 0 ? img[i + width] - img[i]
        : y === height - 1 ? img[i] - img[i - width]
          : (img[i + width] - img[i - width]) / 2;
      s += Math.sqrt((gx * gx + gy * gy) / 2);
    }
  }
  return s / (width * height);
}

// ---------------------------------------------------------------------------------------------
// Mutual information

/**
 * Mutual information of two grey images in nats, as `sklearn.metrics.mutual_info_score` on
 * the flattened images: every distinct value is its own label (values are rounded to integers
 * in 0..255 to build the joint histogram, which they already are for {@link toMetricGrey} output).
 */
export function mutualInfoScore(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) throw new Error(`mutualInfoScore: lengths differ (${a.length} vs ${b.length})`);
  const n = a.length;
  const joint = new Float64Array(256 * 256);
  const pa = new Float64Array(256);
  const pb = new Float64Array(256);
  for (let i = 0; i < n; i++) {
    const u = Math.min(255, Math.max(0, roundHalfEven(a[i])));
    const v = Math.min(255, Math.max(0, roundHalfEven(b[i])));
    joint[u * 256 + v]++;
    pa[u]++;
    pb[v]++;
  }
  const logN = Math.log(n);
  let mi = 0;
  for (let u = 0; u < 256; u++) {
    if (pa[u] === 0) continue;
    for (let v = 0; v < 256; v++) {
      const c = joint[u * 256 + v];
      if (c === 0) continue;
      // sklearn's form: p * (log c - log N) + p * (log N + log N - log(pa * pb)).
      const p = c / n;
      const term = p * (Math.log(c) - logN) + p * (2 * logN - Math.log(pa[u] * pb[v]));
      // sklearn zeroes terms below machine epsilon in magnitude.
      if (Math.abs(term) >= Number.EPSILON) mi += term;
    }
  }
  return Math.max(0, mi);
}

/** MI: `MI(F, IR) + MI(F, VI)` in nats (see {@link mutualInfoScore}). */
export function mutualInformation(ir: Float64Array, vi: Float64Array, fused: Float64Array): number {
  return mutualInfoScore(fused, ir) + mutualInfoScore(fused, vi);
}

// ---------------------------------------------------------------------------------------------
// SCD

function pearson(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) { ma += a[i]; mb += b[i]; }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma;
    const db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

/**
 * SCD: sum of the correlations of differences, `corr(IR, F − VI) + corr(VI, F − IR)` (Pearson;
 * dimensionless, at most 2). NaN when an image or a difference is constant, as in the reference.
 */
export function sumOfCorrelationsOfDifferences(ir: Float64Array, vi: Float64Array, fused: Float64Array): number {
  if (ir.length !== vi.length || ir.length !== fused.length) throw new Error('sumOfCorrelationsOfDifferences: lengths differ');
  const fMinusVi = new Float64Array(fused.length);
  const fMinusIr = new Float64Array(fused.length);
  for (let i = 0; i < fused.length; i++) {
    fMinusVi[i] = fused[i] - vi[i];
    fMinusIr[i] = fused[i] - ir[i];
  }
  return pearson(ir, fMinusVi) + pearson(vi, fMinusIr);
}

// ---------------------------------------------------------------------------------------------
// VIF (pixel domain)

/** A grey image with its size, used between VIF scales. */
interface Plane { data: Float64Array; width: number; height: number }

/**
 * 1-D factor of the reference's normalised N×N Gaussian window (σ = N/5). The 2-D window
 * `exp(-(x²+y²)/2σ²)/Σ` is the outer product of this vector with itself; the reference's
 * "zero below eps·max" step never triggers for N ≤ 17 (smallest ratio e^-10), so it is omitted.
 */
function gaussian1d(n: number): Float64Array {
  const sd = n / 5;
  const m = (n - 1) / 2;
  const g = new Float64Array(n);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const x = i - m;
    g[i] = Math.exp(-(x * x) / (2 * sd * sd));
    s += g[i];
  }
  for (let i = 0; i < n; i++) g[i] /= s;
  return g;
}

/**
 * 'valid' 2-D filtering with the separable symmetric window `k ⊗ k` (= scipy's
 * `convolve2d(x, rot90(win, 2), 'valid')`; the flip is a no-op for a symmetric window).
 * Separable and folded sums change only the float64 rounding order (~1e-15 relative), and cut
 * the cost from N² to N multiply-adds per pixel.
 */
function filterValid(p: Plane, k: Float64Array): Plane {
  const n = k.length;
  const m = (n - 1) >> 1;
  const { width: w, height: h, data } = p;
  const ow = w - n + 1;
  const oh = h - n + 1;
  if (ow <= 0 || oh <= 0) throw new Error(`VIF: image ${w}x${h} is too small for a ${n}x${n} window`);
  const km = k[m];
  const tmp = new Float64Array(h * ow);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const trow = y * ow;
    for (let x = 0; x < ow; x++) {
      const base = row + x;
      let s = km * data[base + m];
      for (let j = 0; j < m; j++) s += k[j] * (data[base + j] + data[base + n - 1 - j]);
      tmp[trow + x] = s;
    }
  }
  const out = new Float64Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    const dst = y * ow;
    const mid = (y + m) * ow;
    for (let x = 0; x < ow; x++) out[dst + x] = km * tmp[mid + x];
    for (let j = 0; j < m; j++) {
      const kj = k[j];
      const top = (y + j) * ow;
      const bot = (y + n - 1 - j) * ow;
      for (let x = 0; x < ow; x++) out[dst + x] += kj * (tmp[top + x] + tmp[bot + x]);
    }
  }
  return { data: out, width: ow, height: oh };
}

/** `x[::2, ::2]`. */
function decimate(p: Plane): Plane {
  const ow = Math.ceil(p.width / 2);
  const oh = Math.ceil(p.height / 2);
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) out[y * ow + x] = p.data[2 * y * p.width + 2 * x];
  }
  return { data: out, width: ow, height: oh };
}

function product(a: Plane, b: Plane): Plane {
  const out = new Float64Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = a.data[i] * b.data[i];
  return { data: out, width: a.width, height: a.height };
}

/**
 * VIF-pixel numerators and denominators of several references against one distorted image,
 * summed over the 4 scales. Sharing the distorted image's pyramid and local statistics between
 * references is why this takes a list.
 */
function vifSums(refs: Float64Array[], dist: Float64Array, width: number, height: number): { num: number; den: number }[] {
  const sigmaNsq = 2;
  const eps = 1e-10;
  let rs: Plane[] = refs.map((data) => ({ data, width, height }));
  let d: Plane = { data: dist, width, height };
  const sums = refs.map(() => ({ num: 0, den: 0 }));
  for (let scale = 1; scale <= 4; scale++) {
    const win = gaussian1d(2 ** (5 - scale) + 1);
    if (scale > 1) {
      rs = rs.map((r) => decimate(filterValid(r, win)));
      d = decimate(filterValid(d, win));
    }
    const mu2 = filterValid(d, win).data;
    const e22 = filterValid(product(d, d), win).data;
    rs.forEach((r, k) => {
      const mu1 = filterValid(r, win).data;
      const e11 = filterValid(product(r, r), win).data;
      const e12 = filterValid(product(r, d), win).data;
      let num = 0;
      let den = 0;
      for (let i = 0; i < mu1.length; i++) {
        let s1 = e11[i] - mu1[i] * mu1[i];
        let s2 = e22[i] - mu2[i] * mu2[i];
        const s12 = e12[i] - mu1[i] * mu2[i];
        if (s1 < 0) s1 = 0;
        if (s2 < 0) s2 = 0;
        // The reference's sequence of masked assignments, in its order.
        let g = s12 / (s1 + eps);
        let sv = s2 - g * s12;
        if (s1 < eps) { g = 0; sv = s2; s1 = 0; }
        if (s2 < eps) { g = 0; sv = 0; }
        if (g < 0) { sv = s2; g = 0; }
        if (sv <= eps) sv = eps;
        num += Math.log10(1 + (g * g * s1) / (sv + sigmaNsq));
        den += Math.log10(1 + s1 / sigmaNsq);
      }
      sums[k].num += num;
      sums[k].den += den;
    });
  }
  return sums;
}

/** The reference's `num / den`, with 1 where it is NaN (0/0: a flat reference). */
const vifRatio = ({ num, den }: { num: number; den: number }): number => {
  const v = num / den;
  return Number.isNaN(v) ? 1 : v;
};

/**
 * VIF-pixel (Sheikh & Bovik, MATLAB `vifvec` pixel domain) of `dist` against the reference
 * `ref`, as the evaluator's `compare_viff`: 4 scales, Gaussian windows N = 2^(5−s)+1, σ = N/5,
 * 'valid' filtering and 2× decimation between scales, σn² = 2, eps = 1e-10.
 * Dimensionless; 1 when the ratio is NaN (0/0), as in the reference.
 * @throws Error when the image is smaller than the windows need (about 40×40).
 */
export function vifPixel(ref: Float64Array, dist: Float64Array, width: number, height: number): number {
  checkSize('vifPixel', width, height, ref, dist);
  return vifRatio(vifSums([ref], dist, width, height)[0]);
}

/** VIF: `VIF(IR → F) + VIF(VI → F)` (see {@link vifPixel}); dimensionless. */
export function visualInformationFidelity(ir: Float64Array, vi: Float64Array, fused: Float64Array, width: number, height: number): number {
  checkSize('visualInformationFidelity', width, height, ir, vi, fused);
  const [a, b] = vifSums([ir, vi], fused, width, height);
  return vifRatio(a) + vifRatio(b);
}

// ---------------------------------------------------------------------------------------------
// Qabf

/**
 * Sobel gradient magnitude and angle with zero padding, as `convolve2d(img, h, 'same')`
 * (a true convolution, so the kernels are flipped). Angle `atan(Sy/Sx)`, π/2 where Sx = 0.
 * The magnitude is returned squared (integers for integer input) so that the reference's
 * `gA == gF` test is exact; callers take the square root.
 */
function sobel(img: Float64Array, w: number, h: number): { g2: Float64Array; angle: Float64Array } {
  const g2 = new Float64Array(w * h);
  const angle = new Float64Array(w * h);
  const at = (x: number, y: number): number => (x < 0 || y < 0 || x >= w || y >= h ? 0 : img[y * w + x]);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const a = at(x - 1, y - 1), b = at(x, y - 1), c = at(x + 1, y - 1);
      const d = at(x - 1, y), f = at(x + 1, y);
      const g = at(x - 1, y + 1), hh = at(x, y + 1), k = at(x + 1, y + 1);
      // convolve2d with [[-1,0,1],[-2,0,2],[-1,0,1]] and [[1,2,1],[0,0,0],[-1,-2,-1]].
      const sx = (a + 2 * d + g) - (c + 2 * f + k);
      const sy = (g + 2 * hh + k) - (a + 2 * b + c);
      g2[y * w + x] = sx * sx + sy * sy;
      angle[y * w + x] = sx === 0 ? Math.PI / 2 : Math.atan(sy / sx);
    }
  }
  return { g2, angle };
}

/**
 * Qabf (Xydeas–Petrović edge-preservation), as the evaluator computes it: Sobel gradients,
 * Γg = 0.9994, κg = −15, σg = 0.5, Γα = 0.9879, κα = −22, σα = 0.8. Dimensionless, 0..1.
 *
 * Reproduces a quirk of the reference: where the source and fused gradient magnitudes are equal,
 * the gradient ratio is set to the fused magnitude itself (not 1).
 */
export function qabf(ir: Float64Array, vi: Float64Array, fused: Float64Array, width: number, height: number): number {
  checkSize('qabf', width, height, ir, vi, fused);
  const A = sobel(ir, width, height);
  const B = sobel(vi, width, height);
  const F = sobel(fused, width, height);
  const Tg = 0.9994, kg = -15, Dg = 0.5, Ta = 0.9879, ka = -22, Da = 0.8;
  const q = (g2s: number, as: number, g2f: number, af: number): number => {
    const gs = Math.sqrt(g2s);
    const gf = Math.sqrt(g2f);
    const G = g2s > g2f ? gf / gs : g2s === g2f ? gf : gs / gf;
    const Aang = 1 - Math.abs(as - af) / (Math.PI / 2);
    return (Tg / (1 + Math.exp(kg * (G - Dg)))) * (Ta / (1 + Math.exp(ka * (Aang - Da))));
  };
  let nume = 0;
  let deno = 0;
  for (let i = 0; i < width * height; i++) {
    const gA = Math.sqrt(A.g2[i]);
    const gB = Math.sqrt(B.g2[i]);
    nume += q(A.g2[i], A.angle[i], F.g2[i], F.angle[i]) * gA + q(B.g2[i], B.angle[i], F.g2[i], F.angle[i]) * gB;
    deno += gA + gB;
  }
  return nume / deno;
}

// ---------------------------------------------------------------------------------------------
// SSIM

/**
 * 7×7 box mean in float32 as scipy's `uniform_filter` (two 1-D passes, rows then columns, each
 * accumulated in double and stored as float32). Only outputs at least 3 pixels from the border are
 * computed, because SSIM crops the rest; those never touch the 'reflect' padding.
 */
function boxMean7(img: Float32Array, w: number, h: number): Float32Array {
  const pass1 = new Float32Array(w * h); // axis 0 (down the columns)
  for (let y = 3; y < h - 3; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let j = -3; j <= 3; j++) s += img[(y + j) * w + x];
      pass1[y * w + x] = s / 7;
    }
  }
  const out = new Float32Array(w * h); // axis 1 (along the rows)
  for (let y = 3; y < h - 3; y++) {
    const row = y * w;
    for (let x = 3; x < w - 3; x++) {
      let s = 0;
      for (let j = -3; j <= 3; j++) s += pass1[row + x + j];
      out[row + x] = s / 7;
    }
  }
  return out;
}

/**
 * SSIM of two grey images as `skimage.metrics.structural_similarity(a, b)` on float32 input with
 * no `data_range`: 7×7 uniform window, sample covariance, K1 = 0.01, K2 = 0.03, data range 2
 * (skimage's range for float images, although the values are 0..255), 3-pixel border cropped,
 * mean in float64. Dimensionless.
 *
 * The arithmetic is done in float32 like skimage's, which reproduces the golden values to ~1e-16.
 * With C2 = 0.0036 and pixel values up to 255, float32 rounding of `E[x²] − E[x]²` (~1e-3) is
 * comparable to C2 in flat windows, so float64 drifts from the reference (by up to 1.4e-6
 * relative on the golden cases: inside the 1e-3 contract, but not exact).
 */
export function structuralSimilarity(a: Float64Array, b: Float64Array, width: number, height: number): number {
  checkSize('structuralSimilarity', width, height, a, b);
  if (width < 7 || height < 7) throw new Error(`structuralSimilarity: image ${width}x${height} is smaller than the 7x7 window`);
  const n = width * height;
  const x = Float32Array.from(a);
  const y = Float32Array.from(b);
  const xx = new Float32Array(n);
  const yy = new Float32Array(n);
  const xy = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    xx[i] = x[i] * x[i];
    yy[i] = y[i] * y[i];
    xy[i] = x[i] * y[i];
  }
  const ux = boxMean7(x, width, height);
  const uy = boxMean7(y, width, height);
  const uxx = boxMean7(xx, width, height);
  const uyy = boxMean7(yy, width, height);
  const uxy = boxMean7(xy, width, height);
  const covNorm = f32(49 / 48);
  const R = 2;
  const C1 = f32((0.01 * R) ** 2);
  const C2 = f32((0.03 * R) ** 2);
  let sum = 0;
  for (let r = 3; r < height - 3; r++) {
    for (let c = 3; c < width - 3; c++) {
      const i = r * width + c;
      const mx = ux[i];
      const my = uy[i];
      const vx = f32(covNorm * f32(uxx[i] - f32(mx * mx)));
      const vy = f32(covNorm * f32(uyy[i] - f32(my * my)));
      const vxy = f32(covNorm * f32(uxy[i] - f32(mx * my)));
      const A1 = f32(f32(f32(2 * mx) * my) + C1);
      const A2 = f32(f32(2 * vxy) + C2);
      const B1 = f32(f32(f32(mx * mx) + f32(my * my)) + C1);
      const B2 = f32(f32(vx + vy) + C2);
      const D = f32(B1 * B2);
      sum += f32(f32(A1 * A2) / D);
    }
  }
  return sum / ((width - 6) * (height - 6));
}

/** SSIM: `SSIM(F, IR) + SSIM(F, VI)` (see {@link structuralSimilarity}); dimensionless, at most 2. */
export function ssim(ir: Float64Array, vi: Float64Array, fused: Float64Array, width: number, height: number): number {
  return structuralSimilarity(fused, ir, width, height) + structuralSimilarity(fused, vi, width, height);
}

// ---------------------------------------------------------------------------------------------

type MetricFn = (ir: Float64Array, vi: Float64Array, fused: Float64Array, width: number, height: number) => number;

/** The nine metrics, in the order of docs/metrics.md. */
const METRICS: [keyof FusionMetrics, MetricFn][] = [
  ['EN', (_ir, _vi, f) => entropy(f)],
  ['SD', (_ir, _vi, f) => standardDeviation(f)],
  ['SF', (_ir, _vi, f, w, h) => spatialFrequency(f, w, h)],
  ['AG', (_ir, _vi, f, w, h) => averageGradient(f, w, h)],
  ['MI', (ir, vi, f) => mutualInformation(ir, vi, f)],
  ['SCD', (ir, vi, f) => sumOfCorrelationsOfDifferences(ir, vi, f)],
  ['VIF', visualInformationFidelity],
  ['Qabf', qabf],
  ['SSIM', ssim],
];

/**
 * All nine metrics of docs/metrics.md for one (IR, VI, fused) triple of grey images on the 0..255
 * scale (use {@link toMetricGrey}; a fused image in [0, 1] must be scaled and rounded first).
 * EN is in bits, SD/SF/AG in grey levels, MI in nats; MI, SCD, VIF, Qabf and SSIM are sums over
 * (F, IR) and (F, VI).
 * @throws Error when the arrays do not all hold `width * height` values.
 */
export function fusionMetrics(ir: Float64Array, vi: Float64Array, fused: Float64Array, width: number, height: number): FusionMetrics {
  checkSize('fusionMetrics', width, height, ir, vi, fused);
  return Object.fromEntries(METRICS.map(([name, f]) => [name, f(ir, vi, fused, width, height)])) as unknown as FusionMetrics;
}

/**
 * {@link fusionMetrics}, awaiting `between()` after each metric: a worker yields there, so that
 * a cancel can arrive, and stops by throwing from it.
 */
export async function fusionMetricsStepwise(
  ir: Float64Array, vi: Float64Array, fused: Float64Array, width: number, height: number, between: () => Promise<void>,
): Promise<FusionMetrics> {
  checkSize('fusionMetrics', width, height, ir, vi, fused);
  const out: Partial<FusionMetrics> = {};
  for (const [name, f] of METRICS) {
    out[name] = f(ir, vi, fused, width, height);
    await between();
  }
  return out as FusionMetrics;
}

/**
 * Why each undefined (non-finite) metric of a pair is undefined, in the words the app's panel,
 * its exports and the CLI all show. SCD correlates an image with a difference: it is undefined
 * when either is constant.
 */
export function undefinedMetricReasons(m: FusionMetrics, ir: Float64Array, vi: Float64Array, fused: Float64Array): Partial<Record<keyof FusionMetrics, string>> {
  const out: Partial<Record<keyof FusionMetrics, string>> = {};
  for (const name of Object.keys(m) as (keyof FusionMetrics)[]) {
    if (Number.isFinite(m[name])) continue;
    let reason = 'undefined for this pair';
    if (name === 'SCD') {
      const constant = (f: (i: number) => number) => { const a = new Float64Array(fused.length); for (let i = 0; i < a.length; i++) a[i] = f(i); return standardDeviation(a) === 0; };
      if (constant((i) => ir[i])) reason = 'constant infrared image';
      else if (constant((i) => vi[i])) reason = 'constant visible image';
      else if (constant((i) => fused[i] - vi[i])) reason = 'fused image = visible + a constant';
      else if (constant((i) => fused[i] - ir[i])) reason = 'fused image = infrared + a constant';
    }
    out[name] = reason;
  }
  return out;
}

/** A metric as the exports and the CLI write it: the number, or `n/a (why)` when it is undefined. */
export function metricCell(v: number, reason: string | undefined, format: (v: number) => string = String): string {
  return Number.isFinite(v) ? format(v) : `n/a (${reason ?? 'undefined'})`;
}
