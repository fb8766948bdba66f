import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../cli/node-backend';
import { kernelMacs, profileMacs } from './macs';
import { conv2d, convMacs } from '../core/nn/conv';

describe('kernel MACs', () => {
  it('counts convolutions, their gradients and matrix products from shapes', () => {
    expect(kernelMacs({ name: 'Conv2D', inputShapes: [[2, 8, 8, 3], [3, 3, 3, 4]], outputShapes: [[2, 8, 8, 4]] })).toBe(2 * 64 * 4 * 27);
    expect(kernelMacs({ name: 'Conv2DBackpropInput', inputShapes: [[2, 4, 4, 4], [3, 3, 3, 4]], outputShapes: [[2, 8, 8, 3]] })).toBe(2 * 16 * 4 * 27);
    expect(kernelMacs({ name: 'Conv2DBackpropFilter', inputShapes: [[2, 8, 8, 3], [2, 8, 8, 4]], outputShapes: [[3, 3, 3, 4]] })).toBe(2 * 64 * 4 * 27);
    expect(kernelMacs({ name: 'BatchMatMul', inputShapes: [[1, 5, 7], [1, 7, 3]], outputShapes: [[1, 5, 3]] })).toBe(5 * 3 * 7);
    expect(kernelMacs({ name: 'BatchMatMul', inputShapes: [[1, 7, 5], [1, 7, 3]], outputShapes: [[1, 5, 3]] })).toBe(5 * 3 * 7);
    expect(kernelMacs({ name: 'Add', inputShapes: [[4], [4]], outputShapes: [[4]] })).toBe(0);
  });

  it('agrees with the project conv op\'s own count on a profiled forward + backward pass', async () => {
    await useBackend('wasm');
    const x = tf.randomUniform([2, 16, 16, 3]) as tf.Tensor4D;
    const w = tf.variable(tf.randomNormal([3, 3, 3, 8]));
    const b = tf.variable(tf.zeros([8]));
    const fwd = await tf.profile(() => tf.tidy(() => conv2d(x, w as tf.Tensor4D, b as tf.Tensor1D, { activation: 'relu' })));
    const counted = profileMacs(fwd.kernels);
    expect(counted).toBe(2 * convMacs(16, 16, 3, 3, 8));
    const prof = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(conv2d(x, w as tf.Tensor4D, b as tf.Tensor1D, { activation: 'relu' })) as tf.Scalar, [w, b]);
      tf.dispose([value, ...Object.values(grads)]);
      return [] as tf.Tensor[];
    });
    // Forward + input gradient... the weight gradient at least: more than twice the forward.
    expect(profileMacs(prof.kernels)).toBeGreaterThanOrEqual(2 * counted);
    tf.dispose([x, w, b]);
  });
});
