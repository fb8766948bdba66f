import { describe, expect, it } from 'vitest';
import { evaluatePair, evaluatePairStepwise, evaluationsFromJson, evaluationsToJson, scoreSet, setScoreIntervals, setScoreValues } from './evaluation';
import { labelIndices, LabelError } from '../image/label';
import { metricCell } from './fusion-metrics';
import type { RawImage } from '../types';

const W = 64, H = 64;
const grey = (f: (i: number) => number): RawImage => ({ width: W, height: H, channels: 1, data: Uint8Array.from({ length: W * H }, (_, i) => f(i)) });

function pair(stem: string, segShift: number, withBoxes: boolean, wrongCols = 1) {
  const label = Uint8Array.from({ length: W * H }, (_, i) => (i % W < 32 ? 0 : 2));
  const seg = Uint8Array.from(label, (v, i) => (i % W >= 32 + segShift && i % W < 32 + segShift + wrongCols ? 0 : v));
  return evaluatePair({
    stem, ir: grey((i) => (i * 7) % 256), vi: grey((i) => (i * 13) % 256), fusedY: grey((i) => (i * 10) % 256).data as Uint8Array,
    width: W, height: H, seg, label, detections: [[32, 0, 64, 64, 0, 0.9]], boxes: withBoxes ? [[32, 0, 64, 64, 0]] : null,
  });
}

describe('evaluation of fused pairs', () => {
  it('sums pixels over pairs for mIoU, pools detections for mAP, averages fusion metrics', () => {
    const a = pair('a', 0, true), b = pair('b', 1, false);
    // Each pair: one column of 'person' (64 px) predicted as background, so background IoU
    // 2048/2112 and person IoU 1984/2048, in each pair and in their pixel sum.
    const s = scoreSet([a, b]);
    expect(s.pairs).toBe(2);
    expect(s.segmentation!.pairs).toBe(2);
    expect(s.segmentation!.mIoU).toBeCloseTo((2048 / 2112 + 1984 / 2048) / 2, 12);
    expect(s.segmentation!.perClassIoU.car).toBeNull();
    expect(s.detection).toEqual({ pairs: 1, mAP50: 1, perClassAP: { person: 1, bicycle: null, car: null } });
    expect(s.meanMetrics!.EN).toBeCloseTo((a.metrics!.EN + b.metrics!.EN) / 2, 12);
    // A resample that picks a twice scores like a alone (ratios of sums).
    expect(scoreSet([a, b], [0, 0]).segmentation!.mIoU).toBeCloseTo(scoreSet([a]).segmentation!.mIoU, 12);
    expect(scoreSet([a, b], [1]).detection).toBeNull();
  });

  it('gives every set-level score with a bootstrap interval around it', () => {
    const evals = [pair('a', 0, true), pair('b', 1, false, 4), pair('c', 3, false, 9)];
    const iv = setScoreIntervals(evals, { resamples: 200, seed: 3 });
    const v = setScoreValues(scoreSet(evals));
    expect(Object.keys(iv)).toEqual(['EN', 'SD', 'SF', 'AG', 'MI', 'SCD', 'VIF', 'Qabf', 'SSIM', 'mIoU', 'mAP50']);
    for (const [name, x] of Object.entries(iv)) {
      expect(x.value, name).toBe(v[name as keyof typeof v]);
      expect(x.lo, name).toBeLessThanOrEqual(x.value);
      expect(x.hi, name).toBeGreaterThanOrEqual(x.value);
    }
    // The pairs differ in segmentation, so its interval has width; mAP is there only when a draw holds a.
    expect(iv.mIoU.hi - iv.mIoU.lo).toBeGreaterThan(0);
    expect(iv.mAP50.value).toBe(1);
    expect(setScoreIntervals([pair('b', 1, false)]).mAP50.value).toBeNaN();
  });

  it('says why a metric is undefined (SCD of a constant infrared image)', () => {
    const e = evaluatePair({
      stem: 'flat', ir: grey(() => 100), vi: grey((i) => (i * 13) % 256), fusedY: grey((i) => (i * 10) % 256).data as Uint8Array,
      width: W, height: H, seg: null, label: null, detections: [], boxes: null,
    });
    expect(e.metrics!.SCD).toBeNaN();
    expect(e.undefinedMetrics).toEqual({ SCD: 'constant infrared image' });
    expect(metricCell(e.metrics!.SCD, e.undefinedMetrics!.SCD)).toBe('n/a (constant infrared image)');
    expect(metricCell(1.5, undefined)).toBe('1.5');
    expect(pair('a', 0, true).undefinedMetrics).toBeUndefined();
  });

  it('step by step gives the same evaluation, yields after each of the nine metrics, and stops when told', async () => {
    const input = {
      stem: 'a', ir: grey((i) => (i * 7) % 256), vi: grey((i) => (i * 13) % 256), fusedY: grey((i) => (i * 10) % 256).data as Uint8Array,
      width: W, height: H, seg: null, label: null, detections: [], boxes: null,
    };
    let steps = 0;
    const e = await evaluatePairStepwise(input, async () => { steps++; });
    expect(e).toEqual(evaluatePair(input));
    expect(steps).toBe(9);
    // A worker cancels by throwing from the yield: nothing after it is computed.
    let calls = 0;
    await expect(evaluatePairStepwise(input, async () => { if (++calls === 2) throw new Error('cancelled'); })).rejects.toThrow('cancelled');
    expect(calls).toBe(2);
    // Without metrics there is nothing to yield between.
    steps = 0;
    expect((await evaluatePairStepwise({ ...input, metrics: false }, async () => { steps++; })).metrics).toBeNull();
    expect(steps).toBe(0);
  });

  it('round-trips through JSON', () => {
    const evals = [pair('a', 0, true)];
    const back = evaluationsFromJson(JSON.parse(JSON.stringify(evaluationsToJson(evals))));
    expect(back[0].confusion!.counts).toBeInstanceOf(Float64Array);
    expect(scoreSet(back)).toEqual(scoreSet(evals));
  });
});

describe('labelIndices', () => {
  it('reads the first channel and refuses values that are not classes', () => {
    const rgb: RawImage = { width: 2, height: 1, channels: 3, data: Uint8Array.from([1, 9, 9, 8, 0, 0]) };
    expect(Array.from(labelIndices(rgb))).toEqual([1, 8]);
    const bad: RawImage = { width: 2, height: 1, channels: 1, data: Uint8Array.from([0, 200]) };
    expect(() => labelIndices(bad)).toThrow(LabelError);
    expect(() => labelIndices(bad)).toThrow(/label value 200 at pixel 1 is not a class index 0..8/);
  });
});
