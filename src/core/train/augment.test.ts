import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing';
import { Rng } from '../nn/random';
import { augmentTaskBatch, scaledCropSide } from './augment';
import type { CropBatch } from './batch';

beforeAll(() => useBackend('cpu'));

/** A 2-item batch: fused 0.5, IR 0.9, VI 0.1, a reddish chroma, label 3 on the left half. */
function batch(h: number, w: number): CropBatch {
  const n = 2 * h * w;
  const label = new Uint8Array(n);
  for (let i = 0; i < n; i++) label[i] = (i % w) < w / 2 ? 3 : 0;
  const irvi = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) { irvi[2 * i] = 0.9; irvi[2 * i + 1] = 0.1; }
  const chroma = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) { chroma[2 * i] = 0.45; chroma[2 * i + 1] = 0.6; }
  return {
    batch: 2, height: h, width: w, irvi, chroma, fused: new Float32Array(n).fill(0.5), label,
    boxes: [[[2, 2, 6, 10, 0]], []],
  };
}

describe('S augmentation', () => {
  it('resizes to the crop, scales boxes, keeps labels as classes', () => {
    const a = augmentTaskBatch(batch(16, 16), { crop: 32 }, new Rng(1));
    expect(a.rgb.shape).toEqual([2, 32, 32, 3]);
    expect(a.labels!.shape).toEqual([2, 32, 32]);
    expect(a.boxes).toEqual([[[4, 4, 12, 20, 0]], []]);
    const lab = a.labels!.dataSync();
    expect(lab[0]).toBe(3);
    expect(lab[31]).toBe(0);
    expect(new Set(lab)).toEqual(new Set([0, 3]));
    const px = a.rgb.dataSync();
    expect(Math.min(...px)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...px)).toBeLessThanOrEqual(1);
    tf.dispose([a.rgb, a.labels!]);
  });

  it('shows the fused, infrared-only (grey) or visible-only image per item, with jitter', () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const a = augmentTaskBatch(batch(8, 8), { crop: 8, irOnly: 0.3, viOnly: 0.3 }, new Rng(seed));
      const px = a.rgb.dataSync();
      for (let i = 0; i < 2; i++) {
        const [r, g, b] = [px[i * 192], px[i * 192 + 1], px[i * 192 + 2]];
        const y = 0.299 * r + 0.587 * g + 0.114 * b;
        const grey = Math.abs(r - g) < 1e-6 && Math.abs(g - b) < 1e-6;
        // Gain ±25 %, offset ±0.08 around the source's 0.9 (IR), 0.1 (VI) or 0.5 (fused).
        if (grey) { seen.add('ir'); expect(y).toBeGreaterThan(0.5); } else if (y < 0.3) seen.add('vi'); else seen.add('fused');
      }
      tf.dispose([a.rgb, a.labels!]);
    }
    expect(seen).toEqual(new Set(['ir', 'vi', 'fused']));
  });

  it('draws crop sides for scales in range, on a 16-px grid, capped by the image', () => {
    const rng = new Rng(3);
    const sides = Array.from({ length: 200 }, () => scaledCropSide(256, rng, 480));
    expect(Math.min(...sides)).toBeGreaterThanOrEqual(Math.round(256 / 1.5));
    expect(Math.max(...sides)).toBeLessThanOrEqual(Math.round(256 / 0.75));
    // Few distinct sides: each one keeps its own GPU buffers on WebGPU.
    expect(sides.every((x) => x % 16 === 0)).toBe(true);
    expect(new Set(sides).size).toBeLessThanOrEqual(11);
    expect(scaledCropSide(256, new Rng(1), 100)).toBeLessThanOrEqual(100);
  });
});
