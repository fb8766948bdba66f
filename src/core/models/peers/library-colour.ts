/**
 * The 8-bit colour conversions of the libraries that the peers' own scripts read and write their
 * images with (OpenCV, libpng through OpenCV, Pillow). A port reproduces a method's published
 * outputs only if it turns colour into grey and back the way its script did: these differ from
 * BT.601 in floating point by one level on up to half the pixels.
 *
 * Integer forms checked against OpenCV 4.6 and Pillow 9.4 (`src/cli/peers/reference_outputs.py`'s
 * environment): OpenCV's are exact; Pillow's tables are reproduced by their coefficients to within
 * one level on about 1 % of values.
 */
import type { RawImage } from '../../types';

const clamp8 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);

/** 8-bit RGB of pixel `i` (a grey image counts as R = G = B; alpha ignored). */
export function rgbAt(img: RawImage, i: number): [number, number, number] {
  const { data, channels } = img;
  if (channels === 1) return [data[i], data[i], data[i]];
  const o = i * channels;
  return [data[o], data[o + 1], data[o + 2]];
}

/**
 * `cv2.imread(path, 0)` of a colour PNG: libpng's rgb_to_gray with OpenCV's 0.299/0.587 weights
 * (15-bit fixed point, truncated); grey pixels pass unchanged.
 */
export function libpngGrey(img: RawImage): Uint8Array {
  const n = img.width * img.height;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const [r, g, b] = rgbAt(img, i);
    out[i] = r === g && g === b ? r : (r * 9797 + g * 19234 + b * 3737) >> 15;
  }
  return out;
}

/** Pillow's `convert('L')`: ITU-R 601-2 luma in 16-bit fixed point, rounded (grey passes unchanged). */
export function pillowGrey(img: RawImage): Uint8Array {
  const n = img.width * img.height;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const [r, g, b] = rgbAt(img, i);
    out[i] = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
  }
  return out;
}

/** OpenCV's 8-bit BT.601 luma (`COLOR_BGR2GRAY`, `COLOR_BGR2YCrCb`'s Y): 14-bit fixed point, rounded. */
function opencvLuma(r: number, g: number, b: number): number {
  return (r * 4899 + g * 9617 + b * 1868 + 8192) >> 14;
}

/** `cv2.cvtColor(bgr, COLOR_BGR2GRAY)`. */
export function opencvGrey(img: RawImage): Uint8Array {
  const n = img.width * img.height;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = opencvLuma(...rgbAt(img, i));
  return out;
}

/** Interleaved 8-bit RGB from a luma plane and two chroma planes. */
function rgbImage(width: number, height: number, pixel: (i: number) => [number, number, number]): RawImage {
  const n = width * height;
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const [r, g, b] = pixel(i);
    data[3 * i] = clamp8(r);
    data[3 * i + 1] = clamp8(g);
    data[3 * i + 2] = clamp8(b);
  }
  return { width, height, channels: 3, data };
}

/**
 * The fused grey `y` in the visible image's OpenCV chroma: `COLOR_BGR2YCrCb` of the visible
 * image, its Y replaced by `y`, back with `COLOR_YCrCb2BGR` (TarDAL's `save_fus(color=True)`).
 */
export function opencvColourise(y: Uint8Array, vi: RawImage): RawImage {
  return rgbImage(vi.width, vi.height, (i) => {
    const [r, g, b] = rgbAt(vi, i);
    const luma = opencvLuma(r, g, b);
    const cr = clamp8(((r - luma) * 11682 + (128 << 14) + 8192) >> 14) - 128;
    const cb = clamp8(((b - luma) * 9241 + (128 << 14) + 8192) >> 14) - 128;
    const Y = y[i];
    return [Y + ((cr * 22987 + 8192) >> 14), Y + ((cb * -5636 + cr * -11698 + 8192) >> 14), Y + ((cb * 29049 + 8192) >> 14)];
  });
}

/**
 * The fused grey `y` in the visible image's Pillow chroma: `Image.convert('YCbCr')` of the visible
 * image, its Y replaced by `y`, back with `convert('RGB')` (VIF-Benchmark's `img2RGB`). Pillow
 * works in 6-bit fixed point through tables; these are their coefficients, truncated as it does.
 */
export function pillowColourise(y: Uint8Array, vi: RawImage): RawImage {
  const t = (c: number, v: number) => Math.trunc(c * v * 64);
  return rgbImage(vi.width, vi.height, (i) => {
    const [r, g, b] = rgbAt(vi, i);
    const cb = ((t(-0.168736, r) + t(-0.331264, g) + t(0.5, b)) >> 6);
    const cr = ((t(0.5, r) + t(-0.418688, g) + t(-0.081312, b)) >> 6);
    const Y = y[i];
    return [Y + (t(1.402, cr) >> 6), Y + ((t(-0.344136, cb) + t(-0.714136, cr)) >> 6), Y + (t(1.772, cb) >> 6)];
  });
}
