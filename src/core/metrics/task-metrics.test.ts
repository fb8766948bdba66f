import { describe, expect, it } from 'vitest';
import type { Detection, GroundTruthBox } from '../types';
import {
  accumulateConfusion, confusionMatrix, createConfusionMatrix, meanAveragePrecision, segmentationScores,
} from './task-metrics';
import { iou } from '../detect/boxes';

describe('segmentation: confusion matrix and mIoU', () => {
  it('a perfect prediction gives IoU 1 for every present class and null for absent ones', () => {
    const gt = [0, 0, 1, 2, 2, 2];
    const s = segmentationScores(confusionMatrix([gt], [gt], 4));
    expect(s.perClassIoU).toEqual([1, 1, 1, null]);
    expect(s.mIoU).toBe(1);
  });

  it('computes IoU = TP / (TP + FP + FN) on a small case', () => {
    // class 0: TP 1, FN 1 (a 0 predicted as 1) -> 1/2; class 1: TP 2, FP 1 -> 2/3.
    const s = segmentationScores(confusionMatrix([[0, 1, 1, 1]], [[0, 0, 1, 1]], 3));
    expect(s.perClassIoU[0]).toBeCloseTo(1 / 2, 12);
    expect(s.perClassIoU[1]).toBeCloseTo(2 / 3, 12);
    expect(s.perClassIoU[2]).toBeNull();
    expect(s.mIoU).toBeCloseTo((1 / 2 + 2 / 3) / 2, 12);
  });

  it('sums pixels over images (not a mean of per-image IoUs) and skips ignore labels', () => {
    const conf = createConfusionMatrix(2);
    accumulateConfusion(conf, [0, 0], [0, 0]); // image 1: class 0 perfect
    accumulateConfusion(conf, [1, 0, 1, 1], [1, 1, 255, 1]); // image 2: one 1 missed; 255 ignored
    expect(Array.from(conf.counts)).toEqual([2, 0, 1, 2]); // [gt0→0, gt0→1, gt1→0, gt1→1]
    const s = segmentationScores(conf);
    expect(s.perClassIoU[0]).toBeCloseTo(2 / 3, 12); // TP 2, FP 1
    expect(s.perClassIoU[1]).toBeCloseTo(2 / 3, 12); // TP 2, FN 1
  });

  it('a class predicted but never in the ground truth is null, yet its pixels still count against the true class', () => {
    const s = segmentationScores(confusionMatrix([[0, 2]], [[0, 1]], 3));
    expect(s.perClassIoU).toEqual([1, 0, null]);
    expect(s.mIoU).toBe(0.5);
  });

  it('rejects mismatched maps and out-of-range predictions', () => {
    expect(() => confusionMatrix([[0]], [[0, 1]], 2)).toThrow(/1 pixels/);
    expect(() => confusionMatrix([[5]], [[0]], 2)).toThrow(/not a class/);
    expect(segmentationScores(createConfusionMatrix(2)).mIoU).toBeNaN();
  });
});

describe('detection: mAP@0.5 (VOC all-point)', () => {
  const A: GroundTruthBox = [0, 0, 10, 10, 0];
  const B: GroundTruthBox = [20, 20, 30, 30, 0];
  const det = (g: GroundTruthBox, score: number, cls = g[4]): Detection => [g[0], g[1], g[2], g[3], cls, score];

  it('iou of half-overlapping boxes', () => {
    expect(iou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(50 / 150, 12);
    expect(iou([0, 0, 10, 10], [10, 0, 20, 10])).toBe(0);
  });

  it('a perfect prediction gives AP 1', () => {
    const r = meanAveragePrecision([[det(A, 0.9), det(B, 0.8)], [det(A, 0.5)]], [[A, B], [A]], 1);
    expect(r.perClassAP).toEqual([1]);
    expect(r.mAP).toBe(1);
  });

  it('counts a duplicate as a false positive: TP, FP, TP over 2 boxes gives AP 5/6', () => {
    // Ranked: A (TP, P=1, R=.5), A again (FP, P=.5), B (TP, P=2/3, R=1).
    // Envelope: P=1 up to R=.5, then 2/3 up to R=1 -> AP = .5·1 + .5·2/3 = 5/6.
    const r = meanAveragePrecision([[det(A, 0.9), det(A, 0.8), det(B, 0.7)]], [[A, B]], 1);
    expect(r.perClassAP[0]).toBeCloseTo(5 / 6, 12);
  });

  it('ranks detections of all images together by score', () => {
    // Image 2's false positive outranks image 1's hit: FP, TP -> P=.5 at R=1 -> AP .5.
    const far: Detection = [50, 50, 60, 60, 0, 0.9];
    const r = meanAveragePrecision([[det(A, 0.3)], [far]], [[A], []], 1);
    expect(r.perClassAP[0]).toBeCloseTo(0.5, 12);
  });

  it('needs IoU strictly above the threshold, as the VOC devkit', () => {
    const half: Detection = [0, 0, 10, 5, 0, 0.9]; // IoU 0.5 with A
    const more: Detection = [0, 0, 10, 6, 0, 0.9]; // IoU 0.6
    expect(meanAveragePrecision([[half]], [[A]], 1).perClassAP[0]).toBe(0);
    expect(meanAveragePrecision([[more]], [[A]], 1).perClassAP[0]).toBe(1);
    expect(meanAveragePrecision([[half]], [[A]], 1, 0.4).perClassAP[0]).toBe(1);
  });

  it('classes without ground truth are null and left out; classes with no detections score 0', () => {
    const car: GroundTruthBox = [0, 0, 10, 10, 2];
    const person: GroundTruthBox = [20, 20, 30, 30, 0];
    // Perfect car, a wrong-class box on the person, nothing of class 1 anywhere.
    const r = meanAveragePrecision([[det(car, 0.9), det(person, 0.8, 2)]], [[car, person]], 3);
    expect(r.perClassAP[0]).toBe(0);
    expect(r.perClassAP[1]).toBeNull();
    expect(r.perClassAP[2]).toBe(1); // the wrong-class box ranks below the hit, recall is already 1
    expect(r.mAP).toBe(0.5);
  });

  it('rejects mismatched image counts and bad class indices', () => {
    expect(() => meanAveragePrecision([[]], [], 1)).toThrow(/1 prediction lists for 0 images/);
    expect(() => meanAveragePrecision([[[0, 0, 1, 1, 3, 0.5]]], [[]], 3)).toThrow(/class 3/);
    expect(meanAveragePrecision([[]], [[]], 2).mAP).toBeNaN();
  });
});
