import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing';
import { fusion, FUSION_LAYERS } from './fusion';
import { disposeParams } from './model-def';
import { randomInput } from './model-test-utils';

describe('fusion (F)', () => {
  beforeAll(async () => { await useBackend('cpu'); });

  it('starts as a soft maximum of IR and Y_vis', () => {
    const params = fusion.init(1);
    const x = randomInput([1, 16, 16, 2], 3);
    const y = fusion.apply(params, x);
    const d = tf.tidy(() => {
      const [ir, vi] = tf.split(x, 2, 3);
      return tf.abs(tf.sub(y, tf.maximum(ir, vi)));
    });
    const err = Array.from(d.dataSync());
    // mean within 0.03 of max(IR, VI); the soft selection blends where |IR − VI| < ~0.2
    expect(err.reduce((a, b) => a + b, 0) / err.length).toBeLessThan(0.03);
    tf.dispose([x, y, d]);
    disposeParams(params);
  });

  it('keeps its output in (0, 1) for extreme inputs', () => {
    const params = fusion.init(2);
    const x = tf.concat([tf.zeros([1, 8, 8, 1]), tf.ones([1, 8, 8, 1])], 3) as tf.Tensor4D;
    const y = fusion.apply(params, x).dataSync();
    expect(Math.min(...y)).toBeGreaterThan(0);
    expect(Math.max(...y)).toBeLessThan(1);
    expect(y.every(Number.isFinite)).toBe(true);
    x.dispose();
    disposeParams(params);
  });

  it('fits one pair to a target it does not start at (overfit smoke test on WASM)', async () => {
    await useBackend('wasm');
    try {
      const params = fusion.init(3);
      const x = randomInput([2, 16, 16, 2], 9);
      // target: the mean of the sources, far from the soft max F starts at
      const target = tf.tidy(() => tf.mean(x, 3, true));
      const opt = tf.train.adam(1e-2, 0.9, 0.999, 1e-7);
      const loss = () => tf.mean(tf.abs(tf.sub(fusion.apply(params, x), target))) as tf.Scalar;
      const l0 = tf.tidy(loss).dataSync()[0];
      for (let i = 0; i < 120; i++) opt.minimize(loss, true)?.dispose();
      const l1 = tf.tidy(loss).dataSync()[0];
      expect(l1).toBeLessThan(0.1 * l0); // measured: 0.156 -> 0.0006
      tf.dispose([x, target]);
      opt.dispose();
      disposeParams(params);
    } finally {
      await useBackend('cpu');
    }
  });

  it('has the documented size: 30 491 parameters, 3 808 MACs per pixel', () => {
    const params = fusion.init(0);
    expect(fusion.paramCount(params)).toBe(30_491);
    expect(fusion.macs(480, 640)).toBe(3808 * 480 * 640);
    expect(FUSION_LAYERS.length).toBe(11);
    disposeParams(params);
  });
});
