import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import {
  detectionLoss, detectionLossTerms, enetClassWeights, msrsClassWeights, segmentationDiceLoss, segmentationLoss,
  MSRS_PIXEL_SHARE,
} from './task-losses';
import { encodeBatch, disposeTargets, type DetectionTargetTensors } from '../detect/centernet';
import {
  expectBackendsAgree, expectGradMatchesFD, expectNoLeak, input, uniform, type Input,
} from './grad-check.test-helper';
import { useBackend } from '../testing';
import type { GroundTruthBox } from '../types';

async function read(x: tf.Tensor): Promise<number> {
  const d = (await x.data())[0];
  x.dispose();
  return d;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

describe('segmentation loss', () => {
  beforeAll(async () => { await useBackend('cpu'); });

  it('is ln 9 for uniform logits and matches hand values with class weights', async () => {
    const zeros = tf.zeros([1, 2, 2, 9]) as tf.Tensor4D;
    const lab = tf.tensor3d([0, 1, 2, 8], [1, 2, 2], 'int32');
    expect(await read(segmentationLoss(zeros, lab))).toBeCloseTo(Math.log(9), 5);
    // Pixel 0: logit 2 on its class 0; pixel 1: logit 2 on class 0 but label 1.
    const z = new Float32Array(18);
    z[0] = 2; z[9] = 2;
    const logits = tf.tensor4d(z, [1, 1, 2, 9]);
    const l2 = tf.tensor3d([0, 1], [1, 1, 2], 'int32');
    const lse = Math.log(Math.exp(2) + 8);
    const ce0 = lse - 2, ce1 = lse;
    const wts = [2, 5, 1, 1, 1, 1, 1, 1, 1];
    expect(await read(segmentationLoss(logits, l2))).toBeCloseTo((ce0 + ce1) / 2, 5);
    expect(await read(segmentationLoss(logits, l2, wts))).toBeCloseTo((2 * ce0 + 5 * ce1) / 7, 5);
    // An out-of-range label (255) is ignored.
    const l3 = tf.tensor3d([0, 255], [1, 1, 2], 'int32');
    expect(await read(segmentationLoss(logits, l3, wts))).toBeCloseTo(ce0, 5);
    tf.dispose([zeros, lab, logits, l2, l3]);
  });

  it('stays finite for huge logits', async () => {
    const z = new Float32Array(18).fill(-1000);
    z[3] = 1000; z[9 + 4] = 1000;
    const logits = tf.tensor4d(z, [1, 1, 2, 9]);
    const lab = tf.tensor3d([3, 5], [1, 1, 2], 'int32');
    // Pixel 0 is right (CE 0), pixel 1 wrong by 2000 (CE 2000): mean 1000.
    expect(await read(segmentationLoss(logits, lab))).toBeCloseTo(1000, 2);
    tf.dispose([logits, lab]);
  });

  it('MSRS class weights are the square root of ENet 1/ln(1.02 + p) from the data README shares', () => {
    const w = msrsClassWeights();
    expect(w).toHaveLength(9);
    expect(w[0]).toBeCloseTo(Math.sqrt(1 / Math.log(1.02 + 0.925)), 6);
    expect(w[0]).toBeCloseTo(1.226, 2);
    expect(w[6]).toBeCloseTo(Math.sqrt(47.67), 1); // guardrail, rarest
    expect(Math.max(...w)).toBe(w[6]);
    expect(Math.min(...w)).toBe(w[0]);
    expect(MSRS_PIXEL_SHARE.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
    expect(enetClassWeights([0, 1], 1.02)[0]).toBeCloseTo(1 / Math.log(1.02), 6);
  });

  it('rejects mismatched shapes and frees intermediates', () => {
    const logits = tf.zeros([1, 2, 2, 9]) as tf.Tensor4D;
    const bad = tf.zeros([1, 2, 3], 'int32') as tf.Tensor3D;
    expect(() => segmentationLoss(logits, bad)).toThrow(/do not match/);
    const lab = tf.zeros([1, 2, 2], 'int32') as tf.Tensor3D;
    expectNoLeak(() => segmentationLoss(logits, lab, msrsClassWeights()));
    tf.dispose([logits, bad, lab]);
  });
});

describe('segmentation Dice loss', () => {
  beforeAll(async () => { await useBackend('cpu'); });

  /** Plain-JS soft Dice over present classes, ignoring labels outside 0..c−1. */
  function refDice(z: Float32Array, lab: number[], c: number): number {
    const inter = new Array(c).fill(0), ps = new Array(c).fill(0), gs = new Array(c).fill(0);
    lab.forEach((y, i) => {
      if (y < 0 || y >= c) return;
      const row = Array.from(z.subarray(i * c, (i + 1) * c));
      const m = Math.max(...row), e = row.map((v) => Math.exp(v - m)), s = e.reduce((a, b) => a + b, 0);
      e.forEach((v, k) => { ps[k] += v / s; if (k === y) inter[k] += v / s; });
      gs[y]++;
    });
    const present = gs.map((g, k) => (g > 0 ? k : -1)).filter((k) => k >= 0);
    return present.reduce((a, k) => a + 1 - (2 * inter[k]) / (ps[k] + gs[k] + 1e-6), 0) / present.length;
  }

  it('matches a plain-JS reference, counts present classes only and ignores out-of-range labels', async () => {
    const z = uniform(2 * 3 * 9, 5, -2, 2);
    const lab = [0, 0, 0, 4, 4, 255];
    const logits = tf.tensor4d(z, [1, 2, 3, 9]);
    const l = tf.tensor3d(lab, [1, 2, 3], 'int32');
    expect(await read(segmentationDiceLoss(logits, l))).toBeCloseTo(refDice(z, lab, 9), 5);
    tf.dispose([logits, l]);
  });

  it('is about 0 for a confident right answer and about 1 for a confident wrong one', async () => {
    const right = new Float32Array(4 * 9), wrong = new Float32Array(4 * 9);
    const lab = [0, 6, 6, 8];
    lab.forEach((y, i) => { right[i * 9 + y] = 30; wrong[i * 9 + ((y + 1) % 9)] = 30; });
    const l = tf.tensor3d(lab, [1, 2, 2], 'int32');
    expect(await read(segmentationDiceLoss(tf.tensor4d(right, [1, 2, 2, 9]), l))).toBeLessThan(1e-4);
    expect(await read(segmentationDiceLoss(tf.tensor4d(wrong, [1, 2, 2, 9]), l))).toBeGreaterThan(0.999);
    l.dispose();
  });

  it('has the gradient of finite differences and frees intermediates', async () => {
    const lab = Int32Array.from([1, 1, 0, 3, 0, 0, 3, 255]);
    await expectGradMatchesFD(
      (z, y) => segmentationDiceLoss(z as tf.Tensor4D, y as tf.Tensor3D),
      [input(uniform(8 * 9, 9, -1, 1), [2, 2, 2, 9]), input(lab, [2, 2, 2], 'int32')], [0],
    );
    const logits = tf.zeros([1, 2, 2, 9]) as tf.Tensor4D;
    const bad = tf.zeros([1, 2, 3], 'int32') as tf.Tensor3D;
    expect(() => segmentationDiceLoss(logits, bad)).toThrow(/do not match/);
    const l = tf.zeros([1, 2, 2], 'int32') as tf.Tensor3D;
    expectNoLeak(() => segmentationDiceLoss(logits, l));
    tf.dispose([logits, bad, l]);
  });
});

/** Plain-JS CenterNet loss (focal heat + 1 − GIoU of anchor distances) for checking. */
function refDetLoss(
  det: Float32Array, heat: Float32Array, box: Float32Array, mask: Float32Array, n: number,
): { heat: number; box: number } {
  let pos = 0, neg = 0, np = 0, lb = 0, nm = 0;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      const z = det[i * 7 + k], y = heat[i * 3 + k], p = sigmoid(z);
      if (y === 1) { pos += (1 - p) ** 2 * Math.log(p); np++; } else neg += (1 - y) ** 4 * p * p * Math.log(1 - p);
    }
    if (mask[i]) {
      nm++;
      const [pl, pt, pr, pb] = [0, 1, 2, 3].map((j) => Math.max(det[i * 7 + 3 + j], 0));
      const [gl, gt, gr, gb] = [0, 1, 2, 3].map((j) => box[i * 4 + j]);
      const inter = (Math.min(pl, gl) + Math.min(pr, gr)) * (Math.min(pt, gt) + Math.min(pb, gb));
      const union = (pl + pr) * (pt + pb) + (gl + gr) * (gt + gb) - inter;
      const hull = (Math.max(pl, gl) + Math.max(pr, gr)) * (Math.max(pt, gt) + Math.max(pb, gb));
      lb += 1 - (inter / union - (hull - union) / hull);
    }
  }
  return { heat: -(pos + neg) / Math.max(np, 1), box: lb / Math.max(nm, 1) };
}

describe('detection loss (CenterNet)', () => {
  const H = 32, W = 40, S = 4, h = H / S, w = W / S;
  const boxes: GroundTruthBox[][] = [
    [[2, 3, 14, 20, 0], [20, 8, 38, 24, 2]],
    [[10, 10, 18, 30, 1]],
  ];
  // Box distances kept positive (away from the clamp at 0, a kink for finite differences).
  const detData = uniform(2 * h * w * 7, 41, -3, 3).map((v, i) => (i % 7 >= 3 ? 0.2 + Math.abs(v) : v));

  async function targetArrays(): Promise<{ t: DetectionTargetTensors; a: Float32Array[] }> {
    const t = encodeBatch(boxes, H, W);
    const a = await Promise.all([t.heatmap, t.box, t.mask].map(async (x) => (await x.data()) as Float32Array));
    return { t, a };
  }

  it('matches a plain-JS reference of the focal and GIoU terms', async () => {
    await useBackend('cpu');
    const { t, a } = await targetArrays();
    const det = tf.tensor4d(detData, [2, h, w, 7]);
    const terms = detectionLossTerms(det, t, { heat: 1, box: 0.5 });
    const ref = refDetLoss(detData, a[0], a[1], a[2], 2 * h * w);
    expect(ref.box).toBeGreaterThan(0.1);
    expect(await read(terms.heat)).toBeCloseTo(ref.heat, 4);
    expect(await read(terms.box)).toBeCloseTo(ref.box, 5);
    expect(await read(terms.total)).toBeCloseTo(ref.heat + 0.5 * ref.box, 4);
    tf.dispose(det);
    disposeTargets(t);
  });

  it('is near zero for perfect predictions and finite for extreme logits', async () => {
    await useBackend('cpu');
    const { t, a } = await targetArrays();
    const perfect = new Float32Array(2 * h * w * 7);
    for (let i = 0; i < 2 * h * w; i++) {
      for (let k = 0; k < 3; k++) {
        const y = a[0][i * 3 + k];
        perfect[i * 7 + k] = y === 1 ? 30 : -30;
      }
      for (let j = 0; j < 4; j++) perfect[i * 7 + 3 + j] = a[1][i * 4 + j];
    }
    const det = tf.tensor4d(perfect, [2, h, w, 7]);
    expect(await read(detectionLoss(det, t))).toBeLessThan(1e-6);
    const wild = tf.tensor4d(new Float32Array(2 * h * w * 7).map((_, i) => (i % 2 ? 1e4 : -1e4)), [2, h, w, 7]);
    expect(Number.isFinite(await read(detectionLoss(wild, t)))).toBe(true);
    tf.dispose([det, wild]);
    disposeTargets(t);
  });

  it('frees intermediates', async () => {
    await useBackend('cpu');
    const t = encodeBatch(boxes, H, W);
    const det = tf.tensor4d(detData, [2, h, w, 7]);
    expectNoLeak(() => detectionLoss(det, t));
    expectNoLeak(() => { const r = detectionLossTerms(det, t); return [r.total, r.heat, r.box]; });
    tf.dispose(det);
    disposeTargets(t);
  });

  // Targets are constant inputs (indices 1..3) of the loss under test.
  const targetInputs = async (): Promise<Input[]> => {
    await useBackend('cpu');
    const { t, a } = await targetArrays();
    disposeTargets(t);
    return [
      input(a[0], [2, h, w, 3]), input(a[1], [2, h, w, 4]), input(a[2], [2, h, w, 1]),
    ];
  };
  const detFn = (d: tf.Tensor, hm: tf.Tensor, bx: tf.Tensor, m: tf.Tensor) =>
    detectionLoss(d as tf.Tensor4D, { heatmap: hm as tf.Tensor4D, box: bx as tf.Tensor4D, mask: m as tf.Tensor4D }, { box: 0.5 });

  it('detection gradient matches finite differences', async () => {
    const tin = await targetInputs();
    await expectGradMatchesFD(detFn, [input(detData, [2, h, w, 7]), ...tin], [0], { eps: 1e-4 });
  });
  it('detection loss and gradient agree between WASM and CPU', async () => {
    const tin = await targetInputs();
    await expectBackendsAgree(detFn, [input(detData, [2, h, w, 7]), ...tin], [0]);
  });

  const segInputs = (): Input[] => [
    input(uniform(2 * 4 * 5 * 9, 51, -3, 3), [2, 4, 5, 9]),
    input(Int32Array.from(uniform(40, 52), (v) => Math.floor(v * 9)), [2, 4, 5], 'int32'),
  ];
  const segFn = (z: tf.Tensor, l: tf.Tensor) => segmentationLoss(z as tf.Tensor4D, l as tf.Tensor3D, msrsClassWeights());
  it('segmentation gradient matches finite differences', async () => {
    await expectGradMatchesFD(segFn, segInputs(), [0]);
  });
  it('segmentation loss and gradient agree between WASM and CPU', async () => {
    await expectBackendsAgree(segFn, segInputs(), [0]);
  });
});
