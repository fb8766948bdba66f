/**
 * How closely one 8-bit image reproduces another (a port's output against its authors' saved
 * output): PSNR, the largest difference, and the share of values within a few levels.
 * Both are compared as RGB; a grey image counts as R = G = B; alpha is ignored.
 */
import type { RawImage } from '../types';

export interface ImageAgreement {
  /** PSNR in dB over all RGB values (Infinity when identical). */
  psnr: number;
  /** Largest absolute difference, in levels. */
  maxAbs: number;
  /** Share of RGB values at most `tolerance` levels apart. */
  within: number;
  tolerance: number;
}

/** @throws when the images' sizes differ. */
export function imageAgreement(a: RawImage, b: RawImage, tolerance = 3): ImageAgreement {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`images differ in size: ${a.width}x${a.height} and ${b.width}x${b.height}`);
  }
  const n = a.width * a.height;
  const at = (im: RawImage, i: number, c: number) => im.data[im.channels === 1 ? i : i * im.channels + c];
  let se = 0, maxAbs = 0, close = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const d = Math.abs(at(a, i, c) - at(b, i, c));
      se += d * d;
      if (d > maxAbs) maxAbs = d;
      if (d <= tolerance) close++;
    }
  }
  const mse = se / (3 * n);
  return { psnr: mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse), maxAbs, within: close / (3 * n), tolerance };
}
