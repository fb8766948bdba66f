import { describe, expect, it } from 'vitest';
import { frameAt, framePeriod, nearestIndex, pairFrames, sampleFrames } from './frame-pairing';

const times = (n: number, fps: number, start = 0) => Array.from({ length: n }, (_, i) => start + i / fps);

describe('pairFrames', () => {
  it('pairs equal streams frame for frame', () => {
    const f = pairFrames(times(5, 10), times(5, 10));
    expect(f).toHaveLength(5);
    f.forEach((p, i) => {
      expect(p.index).toBe(i);
      expect(p.ir).toBeCloseTo(i / 10, 9);
      expect(p.vi).toBeCloseTo(i / 10, 9);
      expect(p.time).toBeCloseTo(i / 10, 9);
    });
  });

  it('follows the stream with fewer frames and matches the nearest frame of the other', () => {
    // Infrared at 10 fps, visible at 30 fps over the same second.
    const f = pairFrames(times(10, 10), times(30, 30));
    expect(f).toHaveLength(10);
    for (const p of f) expect(Math.abs(p.vi - p.ir)).toBeLessThan(1 / 60 + 1e-9);
    // The other way round: the infrared is the faster one.
    const g = pairFrames(times(30, 30), times(10, 10));
    expect(g).toHaveLength(10);
    for (const p of g) expect(Math.abs(p.vi - p.ir)).toBeLessThan(1 / 60 + 1e-9);
  });

  it('counts only where both streams run: the shorter stream, within the offset', () => {
    // 20 infrared frames, 12 visible ones: 12 pairs.
    expect(pairFrames(times(20, 10), times(12, 10))).toHaveLength(12);
    // The visible video starts 0.5 s into the infrared one's time: infrared frames 5..14 pair.
    const f = pairFrames(times(20, 10), times(10, 10, 0), -0.5);
    expect(f).toHaveLength(10);
    expect(f[0].ir).toBeCloseTo(0.5, 9);
    expect(f[0].vi).toBeCloseTo(0, 9);
    expect(f[0].time).toBe(0);
    expect(f[9].ir).toBeCloseTo(1.4, 9);
  });

  it('a positive offset skips the start of the visible video', () => {
    const f = pairFrames(times(10, 10), times(10, 10), 0.3);
    expect(f).toHaveLength(7);
    expect(f[0].ir).toBeCloseTo(0, 9);
    expect(f[0].vi).toBeCloseTo(0.3, 9);
  });

  it('is empty when the streams do not overlap or one is empty', () => {
    expect(pairFrames(times(10, 10), times(10, 10), 5)).toEqual([]);
    expect(pairFrames([], times(10, 10))).toEqual([]);
  });
});

describe('frameAt, nearestIndex, framePeriod', () => {
  it('finds the frame that has started', () => {
    const f = pairFrames(times(5, 10), times(5, 10));
    expect(frameAt(f, 0)?.index).toBe(0);
    expect(frameAt(f, 0.25)?.index).toBe(2);
    expect(frameAt(f, 99)?.index).toBe(4);
    expect(frameAt(f, -1)?.index).toBe(0);
    expect(frameAt([], 0)).toBeUndefined();
  });

  it('nearest and period', () => {
    expect(nearestIndex([0, 1, 2], 1.4)).toBe(1);
    expect(nearestIndex([0, 1, 2], 1.6)).toBe(2);
    expect(nearestIndex([0, 1, 2], -3)).toBe(0);
    expect(nearestIndex([], 0)).toBe(-1);
    expect(framePeriod(times(5, 25))).toBeCloseTo(0.04, 9);
  });
});

describe('sampleFrames', () => {
  it('spreads n frames evenly, each in the middle of its share', () => {
    expect(sampleFrames(60, 4)).toEqual([7, 22, 37, 52]);
    expect(sampleFrames(10, 1)).toEqual([5]);
  });
  it('gives every frame once when asked for more than there are, and none for none', () => {
    expect(sampleFrames(3, 8)).toEqual([0, 1, 2]);
    expect(sampleFrames(0, 8)).toEqual([]);
    expect(sampleFrames(5, 0)).toEqual([]);
  });
  it('never repeats a frame', () => {
    for (const [count, n] of [[7, 6], [100, 33], [18000, 64]]) {
      const s = sampleFrames(count, n);
      expect(new Set(s).size).toBe(s.length);
      expect(Math.max(...s)).toBeLessThan(count);
    }
  });
});
