/**
 * Colour conversion: BT.601 full-range RGB <-> YCbCr (the JPEG / JFIF convention, as used by
 * fusion papers: `Y = 0.299 R + 0.587 G + 0.114 B`, Cb/Cr centred at 128 on the 0..255 scale).
 *
 * Planes are Float32Arrays in [0, 1], row-major, one value per pixel. Cb and Cr are stored as
 * `value / 255`, so a neutral (grey) chroma is 128/255 ≈ 0.502, not exactly 0.5.
 */
import type { RawImage } from '../types';

const KR = 0.299;
const KG = 0.587;
const KB = 0.114;

/** Neutral chroma on the [0, 1] plane scale (128 / 255). */
export const NEUTRAL_CHROMA = 128 / 255;

/**
 * True when the image carries no colour: one channel, or every pixel has R = G = B
 * (alpha ignored). `tolerance` (0..255 levels, default 0) allows for colour noise, e.g. grey
 * images that went through a lossy colour JPEG.
 */
export function isGreyLike(img: RawImage, tolerance = 0): boolean {
  if (img.channels === 1) return true;
  const { data, channels } = img;
  const n = img.width * img.height;
  for (let i = 0, o = 0; i < n; i++, o += channels) {
    const r = data[o], g = data[o + 1], b = data[o + 2];
    if (Math.abs(r - g) > tolerance || Math.abs(r - b) > tolerance) return false;
  }
  return true;
}

/**
 * The luma plane of an image in [0, 1], length `width * height`.
 * Grey images (1 channel) and R = G = B images pass through exactly (`R / 255`);
 * RGB and RGBA use BT.601 luma; alpha is ignored.
 */
export function imageToY(img: RawImage): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n);
  const { data, channels } = img;
  if (channels === 1) {
    for (let i = 0; i < n; i++) out[i] = data[i] / 255;
    return out;
  }
  for (let i = 0, o = 0; i < n; i++, o += channels) {
    const r = data[o], g = data[o + 1], b = data[o + 2];
    // Exact pass-through for grey pixels: the weighted sum would differ from r by float rounding.
    out[i] = (r === g && g === b ? r : KR * r + KG * g + KB * b) / 255;
  }
  return out;
}

/** Y, Cb and Cr planes of an image, each in [0, 1] (chroma as `value / 255`). */
export interface YCbCrPlanes {
  y: Float32Array;
  cb: Float32Array;
  cr: Float32Array;
}

/**
 * Splits an image into BT.601 full-range Y, Cb, Cr planes in [0, 1].
 * Grey images get neutral chroma (128/255) and Y = grey value.
 */
export function splitYCbCr(img: RawImage): YCbCrPlanes {
  const n = img.width * img.height;
  const y = imageToY(img);
  const cb = new Float32Array(n);
  const cr = new Float32Array(n);
  const { data, channels } = img;
  if (channels === 1) {
    cb.fill(NEUTRAL_CHROMA);
    cr.fill(NEUTRAL_CHROMA);
    return { y, cb, cr };
  }
  for (let i = 0, o = 0; i < n; i++, o += channels) {
    const r = data[o], g = data[o + 1], b = data[o + 2];
    cb[i] = (128 - 0.168736 * r - 0.331264 * g + 0.5 * b) / 255;
    cr[i] = (128 + 0.5 * r - 0.418688 * g - 0.081312 * b) / 255;
  }
  return { y, cb, cr };
}

/**
 * The (Cb, Cr) planes of a colour image interleaved as `[h·w·2]` in [0,1] (the layout training
 * batches carry), or undefined for a grey image (S then sees the fused Y as grey).
 */
export function interleavedChroma(img: RawImage): Float32Array | undefined {
  if (isGreyLike(img)) return undefined;
  const { cb, cr } = splitYCbCr(img);
  const out = new Float32Array(cb.length * 2);
  for (let i = 0; i < cb.length; i++) {
    out[2 * i] = cb[i];
    out[2 * i + 1] = cr[i];
  }
  return out;
}

/**
 * Merges Y, Cb, Cr planes (all in [0, 1], same length) into interleaved RGBA bytes
 * (alpha 255), rounding and clamping to 0..255.
 */
export function mergeYCbCr(y: Float32Array, cb: Float32Array, cr: Float32Array): Uint8ClampedArray {
  const n = y.length;
  if (cb.length !== n || cr.length !== n) {
    throw new Error(`mergeYCbCr: plane lengths differ (Y ${n}, Cb ${cb.length}, Cr ${cr.length})`);
  }
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0, o = 0; i < n; i++, o += 4) {
    const Y = y[i] * 255;
    const Cb = cb[i] * 255 - 128;
    const Cr = cr[i] * 255 - 128;
    // Uint8ClampedArray rounds half to even and clamps, which is what we want.
    out[o] = Y + 1.402 * Cr;
    out[o + 1] = Y - 0.344136 * Cb - 0.714136 * Cr;
    out[o + 2] = Y + 1.772 * Cb;
    out[o + 3] = 255;
  }
  return out;
}

/** Converts a plane in [0, 1] to 8-bit grey (rounded, clamped). */
export function planeToGrey8(plane: Float32Array): Uint8Array {
  const out = new Uint8Array(plane.length);
  for (let i = 0; i < plane.length; i++) {
    const v = Math.round(plane[i] * 255);
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}
