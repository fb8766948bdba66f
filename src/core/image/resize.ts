/**
 * Image resizing in plain TypeScript (no tensors): bilinear for images and planes, nearest for
 * label maps. Used for mismatched pairs (VI resized to the IR size) and for inputs above the
 * maximum side. Downscaling widens the triangle filter by the scale factor (as PIL's bilinear
 * does), so large reductions average instead of aliasing.
 */
import type { RawImage } from '../types';

/** Default longest side the pipeline processes; larger inputs are reduced to it. */
export const DEFAULT_MAX_SIDE = 2048;

/** Output size that keeps the aspect ratio with the longest side ≤ `maxSide`. */
export function fitMaxSide(width: number, height: number, maxSide = DEFAULT_MAX_SIDE): { width: number; height: number; scale: number } {
  const side = Math.max(width, height);
  if (side <= maxSide) return { width, height, scale: 1 };
  const scale = maxSide / side;
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
    scale,
  };
}

/**
 * Output size that keeps the aspect ratio with at most `maxPixels` pixels once each side is
 * padded up to a multiple of `stride` (as the pipeline pads for its models).
 */
export function fitMaxPixels(width: number, height: number, maxPixels: number, stride = 1): { width: number; height: number; scale: number } {
  const padded = (n: number) => Math.ceil(n / stride) * stride;
  if (padded(width) * padded(height) <= maxPixels) return { width, height, scale: 1 };
  let scale = Math.sqrt(maxPixels / (width * height));
  const size = () => ({ width: Math.max(1, Math.floor(width * scale)), height: Math.max(1, Math.floor(height * scale)) });
  // Padding can push the area back over: shrink in small steps until it fits.
  while (padded(size().width) * padded(size().height) > maxPixels && scale > 0) scale *= 0.995;
  return { ...size(), scale };
}

interface Taps {
  /** For output index i: taps `start[i] .. start[i] + count[i] - 1`, weights in `weights[i * maxTaps + k]`. */
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  maxTaps: number;
}

/** Separable triangle-filter taps for resampling `src` samples to `dst` (pixel centres aligned). */
function taps(src: number, dst: number): Taps {
  const scale = src / dst;
  const support = Math.max(1, scale);
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(dst);
  const count = new Int32Array(dst);
  const weights = new Float32Array(dst * maxTaps);
  for (let i = 0; i < dst; i++) {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support));
    const hi = Math.min(src, Math.ceil(centre + support));
    let sum = 0;
    let k = 0;
    for (let j = lo; j < hi && k < maxTaps; j++, k++) {
      const w = Math.max(0, 1 - Math.abs((j + 0.5 - centre) / support));
      weights[i * maxTaps + k] = w;
      sum += w;
    }
    // At borders taps fall outside; renormalising keeps flat areas flat.
    if (sum > 0) for (let q = 0; q < k; q++) weights[i * maxTaps + q] /= sum;
    else { weights[i * maxTaps] = 1; k = 1; }
    start[i] = lo;
    count[i] = k;
  }
  return { start, count, weights, maxTaps };
}

/**
 * Resizes interleaved float samples (`channels` per pixel, row-major) from w x h to nw x nh.
 */
export function resizeInterleaved(src: Float32Array, w: number, h: number, channels: number, nw: number, nh: number): Float32Array {
  if (src.length !== w * h * channels) throw new Error(`resize: data length ${src.length} is not ${w}x${h}x${channels}`);
  if (nw === w && nh === h) return src.slice();
  const tx = taps(w, nw);
  const ty = taps(h, nh);
  // Horizontal pass: h rows of nw pixels.
  const mid = new Float32Array(h * nw * channels);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < nw; x++) {
      const s = tx.start[x], n = tx.count[x], wo = x * tx.maxTaps;
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += tx.weights[wo + k] * src[((y * w) + s + k) * channels + c];
        mid[(y * nw + x) * channels + c] = acc;
      }
    }
  }
  // Vertical pass.
  const out = new Float32Array(nh * nw * channels);
  const rowLen = nw * channels;
  for (let y = 0; y < nh; y++) {
    const s = ty.start[y], n = ty.count[y], wo = y * ty.maxTaps;
    const o = y * rowLen;
    for (let k = 0; k < n; k++) {
      const wt = ty.weights[wo + k];
      const r = (s + k) * rowLen;
      for (let i = 0; i < rowLen; i++) out[o + i] += wt * mid[r + i];
    }
  }
  return out;
}

/** Resizes one plane (e.g. a Y plane in [0, 1]) bilinearly from w x h to nw x nh. */
export function resizePlane(plane: Float32Array, w: number, h: number, nw: number, nh: number): Float32Array {
  return resizeInterleaved(plane, w, h, 1, nw, nh);
}

/** Resizes an 8-bit image bilinearly (all channels, alpha included), rounding to 0..255. */
export function resizeImage(img: RawImage, nw: number, nh: number): RawImage {
  if (img.width === nw && img.height === nh) return img;
  const f = Float32Array.from(img.data);
  const r = resizeInterleaved(f, img.width, img.height, img.channels, nw, nh);
  const data = new Uint8ClampedArray(r.length);
  data.set(r); // Uint8ClampedArray rounds and clamps on assignment.
  return { width: nw, height: nh, channels: img.channels, data };
}

/** Resizes a class-index map by nearest neighbour (pixel centres aligned). */
export function resizeLabels(labels: Uint8Array, w: number, h: number, nw: number, nh: number): Uint8Array {
  if (w === nw && h === nh) return labels.slice();
  const out = new Uint8Array(nw * nh);
  for (let y = 0; y < nh; y++) {
    const sy = Math.min(h - 1, Math.floor((y + 0.5) * h / nh));
    for (let x = 0; x < nw; x++) {
      const sx = Math.min(w - 1, Math.floor((x + 0.5) * w / nw));
      out[y * nw + x] = labels[sy * w + sx];
    }
  }
  return out;
}

/**
 * The centred window of an image with the aspect ratio `aspect` (width / height), as large as
 * fits: a portrait image cut to a landscape aspect loses rows at top and bottom.
 */
export function centreCropToAspect(img: RawImage, aspect: number): RawImage {
  let w = img.width;
  let h = img.height;
  if (w / h > aspect) w = Math.max(1, Math.round(h * aspect));
  else h = Math.max(1, Math.round(w / aspect));
  if (w === img.width && h === img.height) return img;
  const x0 = Math.floor((img.width - w) / 2);
  const y0 = Math.floor((img.height - h) / 2);
  const c = img.channels;
  const data = new Uint8ClampedArray(w * h * c);
  for (let y = 0; y < h; y++) {
    const from = ((y0 + y) * img.width + x0) * c;
    data.set(img.data.subarray(from, from + w * c), y * w * c);
  }
  return { width: w, height: h, channels: c, data };
}
