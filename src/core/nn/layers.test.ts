import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing';
import { channel, spatialMean } from './layers';
import { Rng } from './random';
import { randn, relErr } from './nn-test-utils';

/** Value and input gradient of `sum(r ⊙ f(x))` for a fixed random r. */
function valueAndGrad(f: (x: tf.Tensor4D) => tf.Tensor4D, x: tf.Tensor4D, seed: number): { y: Float32Array; dx: Float32Array } {
  const y = f(x);
  const r = randn(new Rng(seed), y.shape);
  const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t as tf.Tensor4D), r)))(x);
  const out = { y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array };
  tf.dispose([y, r, dx]);
  return out;
}

describe.each(['cpu', 'wasm'] as const)('channel picks and spatial means on %s', (backend) => {
  afterAll(async () => { await useBackend('cpu'); });

  it('channel equals a slice, value and gradient', async () => {
    await useBackend(backend);
    const x = randn(new Rng(1), [3, 5, 7, 4]) as tf.Tensor4D;
    for (const c of [0, 2, 3]) {
      const ours = valueAndGrad((t) => channel(t, c), x, 10 + c);
      const ref = valueAndGrad((t) => tf.slice(t, [0, 0, 0, c], [-1, -1, -1, 1]), x, 10 + c);
      expect(Array.from(ours.y)).toEqual(Array.from(ref.y));
      // (dy times the one-hot row gives −0 where a slice's gradient pads +0.)
      expect(Array.from(ours.dx, (v) => v + 0)).toEqual(Array.from(ref.dx));
    }
    expect(() => channel(x, 4)).toThrow(/out of range/);
    x.dispose();
  });

  it('spatialMean equals tf.mean over height and width, value and gradient', async () => {
    await useBackend(backend);
    const x = randn(new Rng(2), [3, 6, 5, 8]) as tf.Tensor4D;
    const ours = valueAndGrad(spatialMean, x, 20);
    const ref = valueAndGrad((t) => tf.mean(t, [1, 2], true) as tf.Tensor4D, x, 20);
    expect(relErr(ours.y, ref.y)).toBeLessThan(1e-5);
    expect(relErr(ours.dx, ref.dx)).toBeLessThan(1e-5);
    x.dispose();
  });

  it('leaks no tensors', async () => {
    await useBackend(backend);
    const x = randn(new Rng(3), [1, 4, 4, 2]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    tf.dispose([channel(x, 1), spatialMean(x)]);
    tf.grad((t: tf.Tensor) => tf.add(tf.sum(channel(t as tf.Tensor4D, 0)), tf.sum(spatialMean(t as tf.Tensor4D))))(x).dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
