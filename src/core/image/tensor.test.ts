import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing';
import { imageToYTensor, logitsToLabels, planesToTensor, planeToTensor, tensorToPlane } from './tensor';

beforeAll(() => useBackend('cpu'));

describe('tensor helpers', () => {
  it('stacks planes as NHWC channels and reads a plane back', async () => {
    const a = new Float32Array([1, 2, 3, 4, 5, 6]);
    const b = new Float32Array([10, 20, 30, 40, 50, 60]);
    const t = planesToTensor([a, b], 2, 3);
    expect(t.shape).toEqual([1, 2, 3, 2]);
    expect(Array.from(await t.data())).toEqual([1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60]);
    const p = planeToTensor(a, 2, 3);
    expect(Array.from(await tensorToPlane(p))).toEqual(Array.from(a));
    expect(() => planeToTensor(a, 3, 3)).toThrow(/6 values, 3x3 needs 9/);
    const y = imageToYTensor({ width: 2, height: 1, channels: 1, data: new Uint8Array([0, 255]) });
    expect(Array.from(await y.data())).toEqual([0, 1]);
    tf.dispose([t, p, y]);
  });
  it('turns logits into class indices', async () => {
    const logits = tf.tensor4d([0, 5, 1, 9, 0, 0], [1, 1, 2, 3]);
    expect(Array.from(await logitsToLabels(logits))).toEqual([1, 0]);
    logits.dispose();
  });
});
