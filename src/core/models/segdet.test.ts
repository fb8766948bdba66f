import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing';
import { Rng } from '../nn/random';
import { HEAT_BIAS_INIT, SEGDET_LAYERS, segdet, segdetFanIn, segdetParamNames } from './segdet';
import { disposeParams } from './model-def';
import { outputTensors, probeLossHost, probeWeights, randomInput, randomiseParams } from './model-test-utils';

describe('segdet (S)', () => {
  beforeAll(async () => { await useBackend('cpu'); });
  afterAll(async () => { await useBackend('cpu'); });

  it('starts a fresh class head at the CenterNet prior', () => {
    const params = segdet.init(1);
    expect(Array.from(params['cls/pw/bias'].dataSync()).map((v) => Math.round(v * 100) / 100))
      .toEqual([HEAT_BIAS_INIT, HEAT_BIAS_INIT, HEAT_BIAS_INIT]);
    disposeParams(params);
  });

  it('names every imported layer\'s source and splits its parameters into parts', () => {
    const imported = SEGDET_LAYERS.filter((l) => l.src);
    expect(imported.every((l) => l.part !== 'seg')).toBe(true);
    expect(SEGDET_LAYERS.filter((l) => !l.src).every((l) => l.part === 'seg')).toBe(true);
    const all = segdetParamNames(['backbone', 'decoder', 'det', 'seg']);
    const params = segdet.init(0);
    expect(all.sort()).toEqual(Object.keys(params).sort());
    disposeParams(params);
  });

  it('has input gradients equal to central finite differences (the task loss reaches F through them)', () => {
    // Randomised biases: at init many pre-activations are exactly 0 (zero biases on zero
    // neighbourhoods), relu kinks that finite differences straddle.
    const p = segdet.init(11);
    randomiseParams(p, 5, segdetFanIn);
    const x = randomInput([1, 32, 32, 3], 2);
    const rs = probeWeights(segdet, p, x, 3);
    const g = tf.grad((xx: tf.Tensor) => {
      const outs = outputTensors(segdet.apply(p, xx as tf.Tensor4D));
      return tf.addN(outs.map((t, i) => tf.sum(tf.mul(t, tf.tensor(rs[i], t.shape)))));
    })(x);
    // Along the gradient itself (the direction with the most signal) and along the gradient
    // with a random half of the pixels masked out (checks the gradient's spatial layout too).
    const mask = tf.tensor(new Rng(7).uniformArray(x.size).map((v) => (v < 0.5 ? 0 : 1)), x.shape);
    const masked = tf.mul(g, mask);
    for (const dir of [g, masked]) {
      const d = tf.div(dir, tf.norm(dir)) as tf.Tensor4D;
      const analytic = tf.sum(tf.mul(g, d)).dataSync()[0];
      const numerics = [5e-5, 1e-4, 2e-4].map((eps) => {
        const plus = tf.add(x, tf.mul(d, eps)) as tf.Tensor4D;
        const minus = tf.sub(x, tf.mul(d, eps)) as tf.Tensor4D;
        const v = (probeLossHost(segdet, p, plus, rs) - probeLossHost(segdet, p, minus, rs)) / (2 * eps);
        tf.dispose([plus, minus]);
        return v;
      });
      const numeric = numerics.sort((a, b) => a - b)[1];
      expect(Math.abs(analytic)).toBeGreaterThan(1e-2);
      expect(Math.abs(analytic - numeric), `${analytic} vs ${numeric}`).toBeLessThan(0.02 * Math.abs(analytic));
      d.dispose();
    }
    tf.dispose([mask, masked]);
    tf.dispose([x, g]);
    disposeParams(p);
  });

});
