import { describe, expect, it } from 'vitest';
import { imageToY, isGreyLike, mergeYCbCr, splitYCbCr, planeToGrey8, NEUTRAL_CHROMA } from './color';
import type { RawImage } from '../types';

function randomRgb(w: number, h: number, channels: 3 | 4, seed = 1): RawImage {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) & 255;
  const data = new Uint8Array(w * h * channels);
  for (let i = 0; i < data.length; i++) data[i] = rnd();
  return { width: w, height: h, channels, data };
}

describe('color', () => {
  it('uses BT.601 luma (0.299 R + 0.587 G + 0.114 B) in [0, 1]', () => {
    const img: RawImage = { width: 3, height: 1, channels: 3, data: new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255]) };
    const y = imageToY(img);
    expect(y[0]).toBeCloseTo(0.299, 6);
    expect(y[1]).toBeCloseTo(0.587, 6);
    expect(y[2]).toBeCloseTo(0.114, 6);
  });
  it('passes grey and R=G=B images through exactly, ignoring alpha', () => {
    const grey: RawImage = { width: 2, height: 1, channels: 1, data: new Uint8Array([7, 200]) };
    expect(Array.from(imageToY(grey))).toEqual([7 / 255, 200 / 255].map(Math.fround));
    const rgba: RawImage = { width: 2, height: 1, channels: 4, data: new Uint8Array([7, 7, 7, 0, 200, 200, 200, 13]) };
    expect(Array.from(imageToY(rgba))).toEqual([7 / 255, 200 / 255].map(Math.fround));
    expect(isGreyLike(grey)).toBe(true);
    expect(isGreyLike(rgba)).toBe(true);
    expect(isGreyLike(randomRgb(4, 4, 3))).toBe(false);
    expect(isGreyLike({ width: 1, height: 1, channels: 3, data: new Uint8Array([10, 11, 10]) }, 1)).toBe(true);
  });
  it('round-trips RGB -> YCbCr -> RGB within one level', () => {
    for (const ch of [3, 4] as const) {
      const img = randomRgb(32, 16, ch, ch);
      const { y, cb, cr } = splitYCbCr(img);
      const back = mergeYCbCr(y, cb, cr);
      let maxErr = 0;
      for (let i = 0; i < 32 * 16; i++) {
        for (let c = 0; c < 3; c++) maxErr = Math.max(maxErr, Math.abs(back[4 * i + c] - img.data[ch * i + c]));
        expect(back[4 * i + 3]).toBe(255);
      }
      expect(maxErr).toBeLessThanOrEqual(1);
    }
  });
  it('gives grey images neutral chroma and merges them back to R=G=B', () => {
    const grey: RawImage = { width: 3, height: 1, channels: 1, data: new Uint8Array([0, 128, 255]) };
    const { y, cb, cr } = splitYCbCr(grey);
    expect(cb.every((v) => v === Math.fround(NEUTRAL_CHROMA))).toBe(true);
    expect(Array.from(mergeYCbCr(y, cb, cr))).toEqual([0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255]);
    expect(Array.from(planeToGrey8(new Float32Array([-0.1, 0.5, 1.2])))).toEqual([0, 128, 255]);
  });
});
