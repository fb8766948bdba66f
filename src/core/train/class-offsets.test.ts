import { describe, expect, it } from 'vitest';
import { Rng } from '../nn/random';
import { confusionMatrix, segmentationScores } from '../metrics/task-metrics';
import { fitClassOffsets, scoresWithOffsets, type LogitSample } from './class-offsets';

const C = 4;

/**
 * Pixels of classes 0..2 (class 3 never occurs) whose logits favour their own class by 2, with
 * noise, and class 1 everywhere by `bias1`: a class-weighted model's over-painting of class 1.
 */
function samples(bias1: number, seed: number): LogitSample[] {
  const rng = new Rng(seed);
  return [0, 1].map(() => {
    const n = 3000;
    const labels = new Uint8Array(n), logits = new Float32Array(n * C);
    for (let p = 0; p < n; p++) {
      const u = rng.uniform();
      labels[p] = u < 0.8 ? 0 : u < 0.9 ? 1 : 2;
      for (let k = 0; k < C; k++) logits[p * C + k] = rng.normal(0, 1) + (k === labels[p] ? 2 : 0) + (k === 1 ? bias1 : 0);
    }
    return { logits, labels };
  });
}

function argmax(s: LogitSample): number[] {
  return Array.from(s.labels, (_, p) => {
    const row = Array.from(s.logits.subarray(p * C, (p + 1) * C));
    return row.indexOf(Math.max(...row));
  });
}

describe('class offsets', () => {
  it('scores the plain argmax as the task metrics do when the offsets are zero', () => {
    const s = samples(1, 1);
    const ref = segmentationScores(confusionMatrix(s.map(argmax), s.map((x) => x.labels), C));
    const got = scoresWithOffsets(s, [0, 0, 0, 0]);
    expect(got.mIoU).toBeCloseTo(ref.mIoU, 12);
    expect(got.perClassIoU).toEqual(ref.perClassIoU);
  });

  it('undoes a bias towards one class, and the offsets carry over to new pixels', () => {
    const fitOn = samples(1.5, 2), fresh = samples(1.5, 3);
    const off = fitClassOffsets(fitOn, C);
    expect(off[0]).toBe(0);
    expect(off[1]).toBeLessThan(-0.5);
    expect(off[3]).toBe(0); // absent from the labels: left alone
    const zero = [0, 0, 0, 0];
    expect(scoresWithOffsets(fitOn, off).mIoU).toBeGreaterThan(scoresWithOffsets(fitOn, zero).mIoU + 0.02);
    expect(scoresWithOffsets(fresh, off).mIoU).toBeGreaterThan(scoresWithOffsets(fresh, zero).mIoU + 0.02);
  });

  it('never lowers the mIoU it fits, and keeps within the limit', () => {
    // Even an unbiased model gains by leaning towards rarer classes (mIoU is not accuracy).
    const s = samples(0, 4);
    const off = fitClassOffsets(s, C, { limit: 0.5 });
    for (const v of off) expect(Math.abs(v)).toBeLessThanOrEqual(0.5);
    expect(scoresWithOffsets(s, off).mIoU).toBeGreaterThanOrEqual(scoresWithOffsets(s, [0, 0, 0, 0]).mIoU);
  });

  it('rejects logits that do not match the labels', () => {
    expect(() => scoresWithOffsets([{ logits: new Float32Array(7), labels: [0, 1] }], [0, 0, 0, 0])).toThrow(/logits/);
  });
});
