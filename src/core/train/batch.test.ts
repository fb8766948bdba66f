import { describe, expect, it } from 'vitest';
import { Rng } from '../nn/random';
import { cropBoxes, sampleCrops, type TrainPair } from './batch';

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

describe('cropBoxes', () => {
  it('shifts, clips, mirrors and drops mostly-hidden boxes', () => {
    expect(cropBoxes([[10, 10, 20, 20, 2]], 5, 5, 100, 100, false, 0.4)).toEqual([[5, 5, 15, 15, 2]]);
    expect(cropBoxes([[10, 10, 20, 20, 2]], 5, 5, 100, 100, true, 0.4)).toEqual([[85, 5, 95, 15, 2]]);
    expect(cropBoxes([[0, 0, 10, 10, 1]], 8, 0, 50, 50, false, 0.4)).toEqual([]);
    expect(cropBoxes([[0, 0, 10, 10, 1]], 4, 0, 50, 50, false, 0.4)).toEqual([[0, 0, 6, 10, 1]]);
  });
});
