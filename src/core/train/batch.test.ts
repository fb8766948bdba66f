import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../nn/random';
import { useBackend } from '../testing';
import { resizeCropBatch, sampleCrops, type CropBatch, type TrainPair } from './batch';

function pair(w: number, h: number): TrainPair {
  const ir = new Float32Array(w * h), vi = new Float32Array(w * h), label = new Uint8Array(w * h);
  // Encode the position in the pixel values so a crop can be traced back to its origin.
  for (let i = 0; i < w * h; i++) { ir[i] = i; vi[i] = -i; label[i] = i % 9; }
  return { stem: 'p', width: w, height: h, ir, vi, label, boxes: [[2, 2, 6, 6, 0]] };
}

describe('sampleCrops', () => {
  it('copies a contiguous window of IR, VI and labels, interleaving IR/VI', () => {
    const b = sampleCrops([pair(10, 8)], { batch: 3, cropHeight: 4, cropWidth: 5, flip: false }, new Rng(1));
    expect([b.batch, b.height, b.width, b.irvi.length, b.label!.length]).toEqual([3, 4, 5, 120, 60]);
    for (let k = 0; k < 3; k++) {
      const o = k * 20, first = b.irvi[2 * o];
      for (let y = 0; y < 4; y++) for (let x = 0; x < 5; x++) {
        const d = o + y * 5 + x;
        expect(b.irvi[2 * d]).toBe(first + y * 10 + x);
        expect(b.irvi[2 * d + 1]).toBe(-(first + y * 10 + x));
        expect(b.label![d]).toBe((first + y * 10 + x) % 9);
      }
    }
  });
  it('is reproducible from the seed', () => {
    const a = sampleCrops([pair(10, 8)], { batch: 4, cropHeight: 3, cropWidth: 3 }, new Rng(7));
    const b = sampleCrops([pair(10, 8)], { batch: 4, cropHeight: 3, cropWidth: 3 }, new Rng(7));
    expect(Array.from(a.irvi)).toEqual(Array.from(b.irvi));
  });
  it('clamps a crop larger than the image', () => {
    const b = sampleCrops([pair(6, 5)], { batch: 1, cropHeight: 64, cropWidth: 64 }, new Rng(1));
    expect([b.height, b.width]).toEqual([5, 6]);
  });
});

describe('sampleCrops focus (rare-class crops)', () => {
  /** A 40×30 pair of background with one pixel of class 6 at (y 25, x 33) and class 7 nowhere. */
  function sparse(): TrainPair {
    const p = pair(40, 30);
    p.label!.fill(0);
    p.label![25 * 40 + 33] = 6;
    return p;
  }
  it('puts a pixel of a focus class inside every focused crop, anywhere in it', () => {
    const seen = new Set<number>();
    for (let s = 0; s < 40; s++) {
      const b = sampleCrops([sparse()], { batch: 2, cropHeight: 8, cropWidth: 8, focus: { classes: [6, 7], share: 1 } }, new Rng(s));
      for (let k = 0; k < 2; k++) {
        const crop = Array.from(b.label!.subarray(k * 64, (k + 1) * 64));
        expect(crop).toContain(6);
        seen.add(crop.indexOf(6));
      }
    }
    expect(seen.size).toBeGreaterThan(20); // not always at the same place in the crop
  });
  it('draws uniformly as before with share 0, and mixes with share 0.5', () => {
    const opts = { batch: 6, cropHeight: 8, cropWidth: 8 };
    const a = sampleCrops([sparse()], opts, new Rng(3));
    const b = sampleCrops([sparse()], { ...opts, focus: { classes: [6], share: 0 } }, new Rng(3));
    expect(Array.from(b.irvi)).toEqual(Array.from(a.irvi));
    let hits = 0;
    for (let s = 0; s < 50; s++) {
      const c = sampleCrops([sparse()], { ...opts, focus: { classes: [6], share: 0.5 } }, new Rng(s));
      for (let k = 0; k < 6; k++) if (c.label!.subarray(k * 64, (k + 1) * 64).includes(6)) hits++;
    }
    expect(hits / 300).toBeGreaterThan(0.4);
    expect(hits / 300).toBeLessThan(0.65);
  });
  it('falls back to uniform crops when no pair has a focus class', () => {
    const opts = { batch: 4, cropHeight: 8, cropWidth: 8 };
    const a = sampleCrops([sparse()], opts, new Rng(9));
    const b = sampleCrops([sparse()], { ...opts, focus: { classes: [7], share: 1 } }, new Rng(9));
    expect(Array.from(b.irvi)).toEqual(Array.from(a.irvi));
  });
});

describe('sampleCrops boxes', () => {
  it('moves boxes into the crop and mirrors them with the pixels', () => {
    const p = pair(10, 8);
    p.boxes = [[0, 0, 10, 8, 1]];
    const b = sampleCrops([p], { batch: 8, cropHeight: 8, cropWidth: 10 }, new Rng(3));
    for (const boxes of b.boxes!) expect(boxes).toEqual([[0, 0, 10, 8, 1]]);
    p.boxes = [[0, 0, 4, 8, 2]];
    const flips = sampleCrops([p], { batch: 16, cropHeight: 8, cropWidth: 10 }, new Rng(3));
    flips.boxes!.forEach((boxes, k) => {
      // A flipped crop has IR value 9 (pixel x=9) at its first position.
      const flipped = flips.irvi[2 * k * 80] === 9;
      expect(boxes).toEqual([flipped ? [6, 0, 10, 8, 2] : [0, 0, 4, 8, 2]]);
    });
  });
});

describe('resizeCropBatch', () => {
  beforeAll(() => useBackend('cpu'));
  const n = 2, h = 8, w = 12;
  const rng = new Rng(5);
  const b: CropBatch = {
    batch: n, height: h, width: w, irvi: rng.uniformArray(n * h * w * 2), chroma: rng.uniformArray(n * h * w * 2),
    label: Uint8Array.from({ length: n * h * w }, (_, i) => i % 7), boxes: [[[2, 2, 6, 4, 1]], []],
  };

  it('halves by averaging each 2×2 block, labels by nearest, boxes scaled', () => {
    const r = resizeCropBatch(b, h / 2, w / 2);
    expect([r.batch, r.height, r.width]).toEqual([n, 4, 6]);
    const at = (i: number, y: number, x: number, c: number) => b.irvi[((i * h + y) * w + x) * 2 + c];
    const mean = (at(1, 2, 4, 1) + at(1, 2, 5, 1) + at(1, 3, 4, 1) + at(1, 3, 5, 1)) / 4;
    expect(r.irvi[((1 * 4 + 1) * 6 + 2) * 2 + 1]).toBeCloseTo(mean, 6);
    expect(r.label![(1 * 4 + 1) * 6 + 2]).toBe(b.label![(1 * h + 3) * w + 5]);
    expect(r.boxes).toEqual([[[1, 1, 3, 2, 1]], []]);
    expect(r.fused).toBeUndefined();
  });

  it('matches tf.image.resizeBilinear with half-pixel centres at any factor', async () => {
    const r = resizeCropBatch(b, 5, 7);
    const ref = tf.image.resizeBilinear(tf.tensor4d(b.chroma!, [n, h, w, 2]), [5, 7], false, true);
    const want = await ref.data();
    ref.dispose();
    r.chroma!.forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
  });
});
