import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing';
import { upsampleAdd, upsampleBilinear, upsampleNearest } from './upsample';
import { Rng } from './random';

function rand(shape: number[], seed: number): tf.Tensor4D {
  return tf.tensor4d(new Rng(seed).normalArray(shape.reduce((a, b) => a * b, 1)), shape as [number, number, number, number]);
}

describe('upsampling', () => {
  beforeAll(async () => { await useBackend('cpu'); });

  it('nearest matches tf.image.resizeNearestNeighbor', () => {
    const x = rand([2, 3, 5, 4], 1);
    for (const f of [2, 4]) {
      const a = upsampleNearest(x, f);
      const b = tf.image.resizeNearestNeighbor(x, [3 * f, 5 * f]);
      expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
      tf.dispose([a, b]);
    }
    x.dispose();
  });

  it('upsampleAdd equals nearest upsampling plus the skip', () => {
    const lo = rand([2, 3, 4, 5], 2);
    const hi = rand([2, 6, 8, 5], 3);
    const a = upsampleAdd(lo, hi);
    const b = tf.add(upsampleNearest(lo, 2), hi);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(() => upsampleAdd(lo, rand([2, 6, 9, 5], 4))).toThrow(/cannot add/);
    tf.dispose([lo, hi, a, b]);
  });

  it('bilinear matches tf.image.resizeBilinear with half-pixel centres', () => {
    const x = rand([2, 3, 5, 3], 5);
    for (const f of [2, 3, 4]) {
      const a = upsampleBilinear(x, f).dataSync();
      const b = tf.image.resizeBilinear(x, [3 * f, 5 * f], false, true).dataSync();
      let err = 0;
      for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i] - b[i]));
      expect(err).toBeLessThan(1e-5);
    }
    x.dispose();
  });

  it('bilinear without half-pixel centres matches TF1 legacy resizeBilinear, gradient included', () => {
    const x = rand([2, 3, 5, 3], 8);
    const r = rand([2, 6, 10, 3], 9);
    const a = upsampleBilinear(x, 2, false).dataSync();
    const b = tf.image.resizeBilinear(x, [6, 10], false, false).dataSync();
    let err = 0;
    for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i] - b[i]));
    expect(err).toBeLessThan(1e-5);
    // Gradient as the adjoint of TF's own forward map: <resize(x), r> = <x, grad>. (tfjs 4.22's
    // ResizeBilinearGrad cannot serve as the reference: on CPU it returns a transposed shape.)
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(upsampleBilinear(t as tf.Tensor4D, 2, false), r)))(x);
    const lhs = tf.sum(tf.mul(tf.image.resizeBilinear(x, [6, 10], false, false), r)).dataSync()[0];
    const rhs = tf.sum(tf.mul(x, g)).dataSync()[0];
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-5 * Math.abs(lhs) + 1e-6);
    g.dispose();
    tf.dispose([x, r]);
  });

  it.each(['cpu', 'wasm'] as const)('bilinear gradient is the adjoint of the forward map on %s', async (backend) => {
    await useBackend(backend);
    try {
      // <up(x), r> = <x, up^T(r)> for random x, r: checks the gradient exactly (it is linear).
      for (const f of [2, 4]) {
        const x = rand([2, 4, 3, 2], 6);
        const r = rand([2, 4 * f, 3 * f, 2], 7);
        const lhs = tf.sum(tf.mul(upsampleBilinear(x, f), r)).dataSync()[0];
        const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(upsampleBilinear(t as tf.Tensor4D, f), r)))(x);
        const rhs = tf.sum(tf.mul(x, g)).dataSync()[0];
        expect(Math.abs(lhs - rhs)).toBeLessThan(1e-5 * Math.abs(lhs) + 1e-6);
        tf.dispose([x, r, g]);
      }
    } finally {
      await useBackend('cpu');
    }
  });

  it('leaks no tensors', () => {
    const x = rand([1, 2, 2, 1], 8);
    const z = tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    tf.dispose([upsampleBilinear(x, 4), upsampleNearest(x, 2), upsampleAdd(x, z)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, z]);
  });
});
