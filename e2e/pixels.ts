/**
 * Pixel comparison for the browser specs: canvas RGBA against a PNG written by the CLI, or
 * one canvas against another, with the numbers a tolerance is stated in.
 */
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';

/** An image as read from a canvas or a PNG: RGBA, 8 bits per channel. */
export interface Rgba {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** How two images of the same size differ (R, G and B only; alpha is ignored). */
export interface PixelDiff {
  width: number;
  height: number;
  /** Largest absolute difference of any channel, in 8-bit levels. */
  maxAbs: number;
  /** Mean absolute difference over all channels, in levels. */
  meanAbs: number;
  /** Fraction of pixels whose R, G and B are all equal. */
  identical: number;
  /** Fraction of pixels with some channel off by more than 1 level. */
  offByMoreThan1: number;
  /** First differing pixel (for the failure message), or null. */
  firstDiff: { x: number; y: number; a: number[]; b: number[] } | null;
}

/** Reads a PNG file (grey, RGB or RGBA) as RGBA. */
export function readPngRgba(file: string): Rgba {
  const png = PNG.sync.read(readFileSync(file));
  return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
}

/** Compares two RGBA images of the same size. @throws when the sizes differ. */
export function diffRgba(a: Rgba, b: Rgba): PixelDiff {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`size differs: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  }
  const n = a.width * a.height;
  let maxAbs = 0, sum = 0, same = 0, over1 = 0;
  let firstDiff: PixelDiff['firstDiff'] = null;
  for (let i = 0; i < n; i++) {
    const o = 4 * i;
    let px = 0;
    for (let c = 0; c < 3; c++) {
      const d = Math.abs(a.rgba[o + c] - b.rgba[o + c]);
      sum += d;
      if (d > px) px = d;
    }
    if (px === 0) same++;
    else if (!firstDiff) {
      firstDiff = { x: i % a.width, y: Math.floor(i / a.width), a: [...a.rgba.subarray(o, o + 3)], b: [...b.rgba.subarray(o, o + 3)] };
    }
    if (px > 1) over1++;
    if (px > maxAbs) maxAbs = px;
  }
  return { width: a.width, height: a.height, maxAbs, meanAbs: sum / (3 * n), identical: same / n, offByMoreThan1: over1 / n, firstDiff };
}

/** One line for annotations and failure messages. */
export function describeDiff(d: PixelDiff): string {
  return `${d.width}x${d.height}: max |Δ| ${d.maxAbs}, mean |Δ| ${d.meanAbs.toFixed(4)}, identical ${(100 * d.identical).toFixed(3)} %, ` +
    `off by >1: ${(100 * d.offByMoreThan1).toFixed(3)} %` +
    (d.firstDiff ? `, first at (${d.firstDiff.x},${d.firstDiff.y}) ${JSON.stringify(d.firstDiff.a)} vs ${JSON.stringify(d.firstDiff.b)}` : '');
}
