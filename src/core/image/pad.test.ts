import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing';
import { cropTo, edgePadAround, lcmStride, padToMultiple, roundUpToMultiple } from './pad';

beforeAll(() => useBackend('cpu'));

describe('pad', () => {
  it('rounds sizes up to a stride multiple', () => {
    expect(roundUpToMultiple(480, 8)).toBe(480);
    expect(roundUpToMultiple(481, 8)).toBe(488);
    expect(lcmStride(4, 8, 1)).toBe(8);
    expect(lcmStride(4, 6)).toBe(12);
  });
  it('reflect-pads bottom/right and crops back to the same values', async () => {
    const x = tf.tensor4d(Array.from({ length: 2 * 3 * 5 * 2 }, (_, i) => i), [2, 3, 5, 2]);
    const p = padToMultiple(x, 4);
    expect(p.shape).toEqual([2, 4, 8, 2]);
    const a = (await p.array()) as number[][][][];
    // Row 3 mirrors row 1; columns 5..7 mirror 3..1.
    expect(a[0][3][0]).toEqual(a[0][1][0]);
    expect(a[1][0][5]).toEqual(a[1][0][3]);
    expect(a[1][0][7]).toEqual(a[1][0][1]);
    const c = cropTo(p, 3, 5);
    expect(await c.array()).toEqual(await x.array());
    tf.dispose([x, p, c]);
  });
  it('edge-pads, and falls back to edge when the image is too small to mirror', async () => {
    const x = tf.tensor4d([1, 2, 3], [1, 1, 3, 1]);
    const p = padToMultiple(x, 4, 'reflect');
    expect(p.shape).toEqual([1, 4, 4, 1]);
    const a = (await p.array()) as number[][][][];
    expect(a[0].map((r) => r.map((v) => v[0]))).toEqual([[1, 2, 3, 2], [1, 2, 3, 2], [1, 2, 3, 2], [1, 2, 3, 2]]);
    const e = padToMultiple(x, 4, 'edge');
    const b = (await e.array()) as number[][][][];
    expect(b[0][3].map((v) => v[0])).toEqual([1, 2, 3, 3]);
    tf.dispose([x, p, e]);
  });
  it('pads around by repeating the edge (PyTorch\'s replicate), by one pixel or more', async () => {
    // 2×3 image, one channel: [[1,2,3],[4,5,6]].
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 2, 3, 1]);
    const one = edgePadAround(x, 1);
    expect(one.shape).toEqual([1, 4, 5, 1]);
    expect(Array.from(await one.data())).toEqual([1, 1, 2, 3, 3, 1, 1, 2, 3, 3, 4, 4, 5, 6, 6, 4, 4, 5, 6, 6]);
    const three = edgePadAround(x, 3);
    expect(three.shape).toEqual([1, 8, 9, 1]);
    const v = Array.from(await three.data());
    expect(v.slice(0, 9)).toEqual([1, 1, 1, 1, 2, 3, 3, 3, 3]);
    expect(v.slice(63, 72)).toEqual([4, 4, 4, 4, 5, 6, 6, 6, 6]);
    tf.dispose([x, one, three]);
  });

  it('returns the input itself when no padding is needed', () => {
    const x = tf.zeros([1, 8, 8, 1]) as tf.Tensor4D;
    expect(padToMultiple(x, 8)).toBe(x);
    expect(cropTo(x, 8, 8)).toBe(x);
    x.dispose();
  });
});
