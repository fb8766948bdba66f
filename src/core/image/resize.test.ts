import { describe, expect, it } from 'vitest';
import { fitMaxPixels, fitMaxSide, resizeImage, resizeLabels, resizePlane } from './resize';

describe('resize', () => {
  it('fits the longest side', () => {
    expect(fitMaxSide(640, 480)).toEqual({ width: 640, height: 480, scale: 1 });
    expect(fitMaxSide(4096, 3072)).toEqual({ width: 2048, height: 1536, scale: 0.5 });
  });
  it('fits a pixel budget counted after padding to a stride, keeping the aspect', () => {
    expect(fitMaxPixels(1920, 1080, 2_097_120, 32)).toEqual({ width: 1920, height: 1080, scale: 1 });
    for (const [w, h, budget, stride] of [[2048, 1536, 2_097_120, 32], [1920, 1120, 2_097_120, 32], [4000, 300, 100_000, 8], [999, 999, 1000, 1]]) {
      const f = fitMaxPixels(w, h, budget, stride);
      const padded = (n: number) => Math.ceil(n / stride) * stride;
      expect(padded(f.width) * padded(f.height)).toBeLessThanOrEqual(budget);
      // Not much smaller than it has to be (within 3 % of the area), at the same aspect.
      expect(padded(f.width) * padded(f.height)).toBeGreaterThan(0.97 * budget - 2 * stride * (f.width + f.height));
      expect(Math.abs(f.width / f.height - w / h)).toBeLessThan(0.01 * (w / h) + 1 / f.height);
      expect(f.scale).toBeLessThan(1);
    }
  });
  it('keeps flat images flat and linear ramps linear (upsampling, inside)', () => {
    const flat = resizePlane(new Float32Array(12).fill(0.25), 4, 3, 9, 7);
    expect(flat.every((v) => Math.abs(v - 0.25) < 1e-6)).toBe(true);
    const ramp = resizePlane(new Float32Array([0, 1, 2, 3]), 4, 1, 8, 1);
    // Output centres at x = (i + 0.5) / 2 - 0.5 in source pixels: 0.25 step inside.
    expect(Array.from(ramp.slice(1, 7))).toEqual([0.25, 0.75, 1.25, 1.75, 2.25, 2.75]);
  });
  it('averages when downscaling by 2 (no aliasing of a checkerboard)', () => {
    const w = 8, h = 8;
    const p = new Float32Array(w * h).map((_, i) => ((i % w) + Math.floor(i / w)) % 2);
    const r = resizePlane(p, w, h, 4, 4);
    for (const v of r) expect(Math.abs(v - 0.5)).toBeLessThan(0.15);
  });
  it('resizes RGB images and label maps', () => {
    const img = resizeImage({ width: 2, height: 2, channels: 3, data: new Uint8Array(12).fill(100) }, 5, 3);
    expect([img.width, img.height, img.channels, img.data.length]).toEqual([5, 3, 3, 45]);
    expect(Array.from(img.data).every((v) => v === 100)).toBe(true);
    expect(Array.from(resizeLabels(new Uint8Array([1, 2, 3, 4]), 2, 2, 4, 4))).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });
});
