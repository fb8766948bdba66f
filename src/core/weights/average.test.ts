import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing';
import { averageParams } from './average';
import { WeightsError } from './io';

beforeAll(() => useBackend('cpu'));

describe('averageParams', () => {
  it('is the element-wise mean and leaves its inputs alone', async () => {
    const a = { k: tf.tensor2d([[1, 2], [3, 4]]), b: tf.tensor1d([0]) };
    const b = { k: tf.tensor2d([[3, 2], [1, 0]]), b: tf.tensor1d([1]) };
    const c = { k: tf.tensor2d([[2, 8], [5, 2]]), b: tf.tensor1d([5]) };
    const mean = averageParams([a, b, c]);
    expect(Array.from(await mean.k.data())).toEqual([2, 4, 3, 2]);
    expect(Array.from(await mean.b.data())).toEqual([2]);
    expect(Array.from(await a.k.data())).toEqual([1, 2, 3, 4]);
    tf.dispose([...Object.values(mean), ...Object.values(a), ...Object.values(b), ...Object.values(c)]);
  });

  it('refuses sets whose names or shapes differ, naming each difference', () => {
    const a = { k: tf.zeros([2, 2]), b: tf.zeros([1]) };
    const b = { k: tf.zeros([2, 3]), extra: tf.zeros([1]) };
    const before = tf.memory().numTensors;
    let err: unknown;
    try { averageParams([a, b]); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(WeightsError);
    expect((err as WeightsError).problems).toEqual([
      "set 2: 'k' has shape [2,3], set 1 has [2,2]",
      "set 2: no parameter 'b'",
      "set 2: parameter 'extra' is not in set 1",
    ]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => averageParams([])).toThrow(/no parameter sets/);
    tf.dispose([...Object.values(a), ...Object.values(b)]);
  });
});
