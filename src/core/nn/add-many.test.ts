import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing';
import { ADDN_MAX_INPUTS, addMany } from './add-many';

describe('addMany', () => {
  beforeAll(async () => { await useBackend('cpu'); });

  it('sums long lists in groups that WebGPU can bind, with the same result as one addN', async () => {
    for (const n of [1, ADDN_MAX_INPUTS, ADDN_MAX_INPUTS + 1, 177]) {
      const ts = Array.from({ length: n }, (_, i) => tf.tensor1d([i, -2 * i, 0.5]));
      let sum: tf.Tensor | undefined;
      const profile = await tf.profile(() => { sum = addMany(ts); return sum; });
      // Every addN kernel it ran stayed within the limit.
      const widths = profile.kernels.filter((k) => k.name === 'AddN').map((k) => k.inputShapes.length);
      expect(widths.length).toBeGreaterThan(0);
      expect(Math.max(...widths)).toBeLessThanOrEqual(ADDN_MAX_INPUTS);
      const want = (n * (n - 1)) / 2;
      // (+ 0 so that -0 compares equal to 0)
      expect(Array.from(await sum!.data())).toEqual([want, -2 * want + 0, 0.5 * n]);
      tf.dispose([...ts, sum!]);
    }
  });

  it('refuses an empty list and leaks no tensors', () => {
    expect(() => addMany([])).toThrow(/no tensors/);
    const a = tf.scalar(1), b = tf.scalar(2);
    const before = tf.memory().numTensors;
    const s = addMany([a, b]);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([a, b, s]);
  });
});
