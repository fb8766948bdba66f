import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing';
import { lossGenerator } from './loss-generator';
import { disposeParams } from './model-def';

describe('lossGenerator (G)', () => {
  beforeAll(async () => { await useBackend('cpu'); });

  it('starts by weighting the brighter source', () => {
    const params = lossGenerator.init(1);
    // left half IR brighter, right half VI brighter
    const ir = tf.tensor4d(Array.from({ length: 64 }, (_, i) => (i % 8 < 4 ? 0.8 : 0.2)), [1, 8, 8, 1]);
    const vi = tf.sub(1, ir) as tf.Tensor4D;
    const x = tf.concat([ir, vi], 3) as tf.Tensor4D;
    const w = tf.tidy(() => tf.softmax(lossGenerator.apply(params, x)));
    const d = w.dataSync();
    for (let i = 0; i < 64; i++) {
      const wir = d[2 * i];
      if (i % 8 < 4) expect(wir).toBeGreaterThan(0.95);
      else expect(wir).toBeLessThan(0.05);
      expect(wir + d[2 * i + 1]).toBeCloseTo(1, 5);
    }
    tf.dispose([ir, vi, x, w]);
    disposeParams(params);
  });

  it('has the documented size: 4 507 parameters, 1 760 MACs per pixel', () => {
    const params = lossGenerator.init(0);
    expect(lossGenerator.paramCount(params)).toBe(4507);
    expect(lossGenerator.macs(480, 640)).toBe(1760 * 480 * 640);
    disposeParams(params);
  });
});
