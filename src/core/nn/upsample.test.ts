import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing';
import { upsampleAdd, upsampleBilinear, upsampleNearest } from './upsample';
import { Rng } from './random';

function rand(shape: number[], seed: number): tf.Tensor4D {
  return tf.tensor4d(new Rng(seed).normalArray(shape.reduce((a, b) => a * b, 1)), shape as [number, number, number, number]);
}

/**
 * Bilinear upsampling by `f`, written out: output row I samples source row (I + ½)/f − ½
 * (half-pixel centres) or I/f (TF1 legacy), clamped to the image; columns alike.
 */
function bilinearReference(x: tf.Tensor4D, f: number, halfPixel: boolean): Float32Array {
  const [b, h, w, c] = x.shape;
  const v = x.dataSync();
  const H = h * f, W = w * f;
  const out = new Float32Array(b * H * W * c);
  const taps = (o: number, n: number): [number, number, number] => {
    const s = Math.min(Math.max(halfPixel ? (o + 0.5) / f - 0.5 : o / f, 0), n - 1);
    const lo = Math.floor(s);
    return [lo, Math.min(lo + 1, n - 1), s - lo];
  };
  for (let n = 0; n < b; n++) {
    for (let I = 0; I < H; I++) {
      const [y0, y1, wy] = taps(I, h);
      for (let J = 0; J < W; J++) {
        const [x0, x1, wx] = taps(J, w);
        for (let k = 0; k < c; k++) {
          const at = (yy: number, xx: number) => v[((n * h + yy) * w + xx) * c + k];
          const top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx;
          const bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx;
          out[((n * H + I) * W + J) * c + k] = top * (1 - wy) + bottom * wy;
        }
      }
    }
  }
  return out;
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

  it.each(['cpu', 'wasm'] as const)('bilinear matches bilinear interpolation written out, half-pixel and TF1 legacy, on %s', async (backend) => {
    await useBackend(backend);
    const x = rand([2, 3, 5, 3], 5);
    for (const halfPixel of [true, false]) {
      for (const f of [2, 3, 4]) {
        const a = upsampleBilinear(x, f, halfPixel).dataSync();
        const b = bilinearReference(x, f, halfPixel);
        let err = 0;
        for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i] - b[i]));
        expect(err).toBeLessThan(1e-5);
      }
    }
    x.dispose();
    await useBackend('cpu');
  });

  it('bilinear gradient without half-pixel centres is the adjoint of the forward map', () => {
    const x = rand([2, 3, 5, 3], 8);
    const r = rand([2, 6, 10, 3], 9);
    // <up(x), r> = <x, grad> for random r. (tfjs 4.22's ResizeBilinearGrad cannot serve as the
    // reference: on CPU it returns a transposed shape.)
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(upsampleBilinear(t as tf.Tensor4D, 2, false), r)))(x);
    const lhs = tf.sum(tf.mul(tf.tensor4d(bilinearReference(x, 2, false), [2, 6, 10, 3]), r)).dataSync()[0];
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
