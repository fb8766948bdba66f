import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import {
  BOX_UNIT, DET_STRIDE, decodeDetections, disposeTargets, encodeBatch, encodeTargets, gaussianRadius, targetsToTensors,
  type CenterNetTargets,
} from './centernet';
import { clipBoxes, cropBoxes, flipBoxesHorizontal, iou, nms, scaleBoxes } from './boxes';
import { useBackend } from '../testing';
import type { Detection, GroundTruthBox } from '../types';

/** The head output a perfect detector would give for these targets. */
function perfectHead(t: CenterNetTargets): tf.Tensor4D {
  const n = t.height * t.width;
  const out = new Float32Array(n * 7);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      const p = Math.min(Math.max(t.heatmap[i * 3 + k], 1e-6), 1 - 1e-6);
      out[i * 7 + k] = Math.log(p / (1 - p));
    }
    for (let j = 0; j < 4; j++) out[i * 7 + 3 + j] = t.box[4 * i + j];
  }
  return tf.tensor4d(out, [1, t.height, t.width, 7]);
}

/** A head with chosen peaks: [cellX, cellY, cls, score, wPx, hPx, offX, offY] (box centre at (cell + off)·stride). */
function handHead(h: number, w: number, peaks: number[][]): tf.Tensor4D {
  const out = new Float32Array(h * w * 7);
  for (let i = 0; i < h * w; i++) for (let k = 0; k < 3; k++) out[i * 7 + k] = -20;
  for (const [x, y, cls, score, bw, bh, ox, oy] of peaks) {
    const o = (y * w + x) * 7;
    out[o + cls] = Math.log(score / (1 - score));
    const cx = (x + ox) * DET_STRIDE, cy = (y + oy) * DET_STRIDE, ax = x * DET_STRIDE, ay = y * DET_STRIDE;
    out.set([ax - (cx - bw / 2), ay - (cy - bh / 2), cx + bw / 2 - ax, cy + bh / 2 - ay].map((d) => d / BOX_UNIT), o + 3);
  }
  return tf.tensor4d(out, [1, h, w, 7]);
}

beforeAll(async () => { await useBackend('wasm'); });

describe('CenterNet targets', () => {
  it('Gaussian radius grows with box size and stays below the box size', () => {
    const r1 = gaussianRadius(3, 3), r2 = gaussianRadius(10, 10), r3 = gaussianRadius(30, 60);
    expect(r1).toBeGreaterThan(0);
    expect(r2).toBeGreaterThan(r1);
    expect(r3).toBeGreaterThan(r2);
    expect(r2).toBeLessThan(10);
  });

  it('encodes a box: peak 1 at the centre cell, its edge distances from the cell anchor there', () => {
    // Centre (22, 13) px → (5.5, 3.25) cells → cell (5, 3), anchor (20, 12) px.
    const t = encodeTargets([[16, 8, 28, 18, 2]], 32, 48);
    expect([t.height, t.width, t.numObjects]).toEqual([8, 12, 1]);
    const cell = 3 * 12 + 5;
    expect(t.heatmap[cell * 3 + 2]).toBe(1);
    expect(t.heatmap[cell * 3 + 0]).toBe(0);
    expect(t.mask[cell]).toBe(1);
    expect(t.mask.reduce((a, b) => a + b, 0)).toBe(1);
    // Box 16..28 × 8..18 from anchor (20, 12): l 4, t 4, r 8, b 6 px.
    expect(Array.from(t.box.slice(4 * cell, 4 * cell + 4)).map((d) => d * BOX_UNIT)).toEqual([4, 4, 8, 6]);
    // Gaussian falls off around the peak, and exactly one cell is 1.
    expect(t.heatmap[(cell + 1) * 3 + 2]).toBeLessThan(1);
    expect(t.heatmap.filter((v) => v === 1).length).toBe(1);
  });

  it('clips boxes to the image, skips sub-pixel ones, rejects bad classes', () => {
    const t = encodeTargets([[-10, -10, 6, 6, 0], [5, 5, 5.5, 9, 1]], 16, 16);
    expect(t.numObjects).toBe(1);
    // Clipped box (0,0)-(6,6): centre (3,3) px → cell (0,0), anchor (0,0): l t 0, r b 6 px.
    expect(t.heatmap[0]).toBe(1);
    expect(Array.from(t.box.slice(0, 4)).map((d) => d * BOX_UNIT)).toEqual([0, 0, 6, 6]);
    expect(() => encodeTargets([[0, 0, 4, 4, 3]], 16, 16)).toThrow(/class/);
  });

  it('batches targets into tensors of the right shapes', () => {
    const t = encodeBatch([[[0, 0, 8, 8, 0]], []], 16, 24);
    expect(t.heatmap.shape).toEqual([2, 4, 6, 3]);
    expect(t.box.shape).toEqual([2, 4, 6, 4]);
    expect(t.mask.shape).toEqual([2, 4, 6, 1]);
    disposeTargets(t);
    expect(() => targetsToTensors([encodeTargets([], 16, 16), encodeTargets([], 16, 24)])).toThrow(/grid/);
  });
});

describe('CenterNet decoding', () => {
  it.each(['wasm', 'cpu'] as const)('encode → perfect head → decode recovers every box (IoU > 0.9, same class) on %s', async (backend) => {
    await useBackend(backend);
    const H = 96, W = 128;
    const gt: GroundTruthBox[] = [
      [10.3, 12.7, 30.1, 60.2, 0], // person
      [50, 40, 58.5, 52, 1], // small bicycle
      [70, 20, 126, 70, 2], // car near the right edge
      [0, 70, 40, 96, 2], // car at the bottom-left corner
      [80, 60, 100, 90, 0], // person overlapping the big car's area, other class
    ];
    const t = encodeTargets(gt, H, W);
    const head = perfectHead(t);
    const before = tf.memory().numTensors;
    const dets = await decodeDetections(head, { scoreThreshold: 0.3, inputHeight: H, inputWidth: W });
    expect(tf.memory().numTensors).toBe(before);
    head.dispose();
    expect(dets).toHaveLength(gt.length);
    for (const g of gt) {
      const best = Math.max(...dets.filter((d) => d[4] === g[4]).map((d) => iou(d, g)));
      expect(best).toBeGreaterThan(0.9);
    }
    for (const d of dets) expect(d[5]).toBeGreaterThan(0.99);
    await useBackend('wasm');
  });

  it('NMS in decoding removes a duplicate of the same class and keeps other classes', async () => {
    // Two car peaks two cells apart with 40×40 px boxes (IoU ≈ 0.67), and a person at the same place.
    const head = handHead(16, 16, [
      [5, 5, 2, 0.9, 40, 40, 0.5, 0.5],
      [7, 5, 2, 0.8, 40, 40, 0.5, 0.5],
      [7, 5, 0, 0.7, 40, 40, 0.5, 0.5],
    ]);
    const dets = await decodeDetections(head, { nmsIoU: 0.5 });
    expect(dets.map((d) => [d[4], Number(d[5].toFixed(3))])).toEqual([[2, 0.9], [0, 0.7]]);
    const all = await decodeDetections(head, { nmsIoU: 1 });
    expect(all).toHaveLength(3);
    // Box geometry: centre ((5 + 0.5)·4, (5 + 0.5)·4) = (22, 22), 40 px wide.
    expect(dets[0].slice(0, 4).map((v) => Number(v.toFixed(3)))).toEqual([2, 2, 42, 42]);
    head.dispose();
  });

  it('applies the score threshold, the detection cap and clipping to the real input size', async () => {
    const head = handHead(8, 8, [
      [1, 1, 0, 0.9, 8, 8, 0, 0],
      [5, 1, 1, 0.6, 8, 8, 0, 0],
      [6, 6, 2, 0.2, 40, 40, 0.5, 0.5], // centre (26, 26), extends past a 28×30 input
    ]);
    expect(await decodeDetections(head, { scoreThreshold: 0.5 })).toHaveLength(2);
    expect(await decodeDetections(head, { scoreThreshold: 0.1, maxDetections: 1 })).toHaveLength(1);
    const clipped = await decodeDetections(head, { scoreThreshold: 0.1, inputHeight: 30, inputWidth: 28 });
    const car = clipped.find((d) => d[4] === 2)!;
    expect(car.slice(0, 4).map((v) => Number(v.toFixed(3)))).toEqual([6, 6, 28, 30]);
    head.dispose();
  });

  it('rejects a batch or a wrong channel count', async () => {
    const bad = tf.zeros([2, 4, 4, 7]) as tf.Tensor4D;
    await expect(decodeDetections(bad)).rejects.toThrow(/expected/);
    bad.dispose();
  });
});

describe('box helpers', () => {
  it('IoU and NMS on plain arrays', () => {
    expect(iou([0, 0, 10, 10], [0, 0, 10, 10])).toBe(1);
    expect(iou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(1 / 3, 10);
    expect(iou([0, 0, 10, 10], [10, 0, 20, 10])).toBe(0);
    const d: Detection[] = [[0, 0, 10, 10, 1, 0.5], [1, 0, 11, 10, 1, 0.9], [1, 0, 11, 10, 0, 0.4], [50, 50, 60, 60, 1, 0.3]];
    expect(nms(d, 0.5)).toEqual([[1, 0, 11, 10, 1, 0.9], [1, 0, 11, 10, 0, 0.4], [50, 50, 60, 60, 1, 0.3]]);
  });

  it('flip, crop, scale and clip transform boxes and keep class and score', () => {
    const b: GroundTruthBox[] = [[10, 20, 30, 40, 2]];
    expect(flipBoxesHorizontal(b, 100)).toEqual([[70, 20, 90, 40, 2]]);
    expect(flipBoxesHorizontal(flipBoxesHorizontal(b, 100), 100)).toEqual(b);
    expect(cropBoxes(b, 5, 25, 50, 50)).toEqual([[5, 0, 25, 15, 2]]);
    expect(cropBoxes(b, 25, 0, 50, 50)).toEqual([]); // 25 % visible < 40 %
    expect(cropBoxes(b, 25, 0, 50, 50, 0.2)).toEqual([[0, 20, 5, 40, 2]]);
    expect(cropBoxes(b, 40, 0, 50, 50, 0)).toEqual([]);
    expect(scaleBoxes([[10, 20, 30, 40, 1, 0.7]] as Detection[], 0.5)).toEqual([[5, 10, 15, 20, 1, 0.7]]);
    expect(clipBoxes([[-5, -5, 10, 200, 0]] as GroundTruthBox[], 50, 60)).toEqual([[0, 0, 10, 60, 0]]);
    expect(b).toEqual([[10, 20, 30, 40, 2]]); // inputs untouched
  });
});
