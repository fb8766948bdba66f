import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../cli/node-backend';
import { Rng } from '../nn/random';
import { bdlHypergradient, dynamicTaskWeights } from './bdl';
import { dartsHypergradient } from './td';

beforeAll(() => useBackend('cpu'));

const arr = async (t: tf.Tensor) => Array.from(await t.data());

describe('dynamic weighted aggregation', () => {
  it('follows w_k = K·softmax_k((L_k(t−1)/L_k(t−2))/T) (hand-computed values)', () => {
    // Two tasks, T = 2: ratios 0.9 and 1.0 → softmax of (0.45, 0.5), times K = 2.
    const w2 = dynamicTaskWeights([0.9, 1.0], [1.0, 1.0], 2);
    expect(w2[0]).toBeCloseTo(0.9750052070, 9);
    expect(w2[1]).toBeCloseTo(1.0249947930, 9);
    // Three tasks: ratios 0.9, 1.2, 0.625; the stalling task (1.2) gets the largest weight.
    const w3 = dynamicTaskWeights([0.9, 1.2, 0.5], [1.0, 1.0, 0.8], 2);
    expect(w3[0]).toBeCloseTo(0.9889994929, 9);
    expect(w3[1]).toBeCloseTo(1.1490534769, 9);
    expect(w3[2]).toBeCloseTo(0.8619470302, 9);
    expect(w3.reduce((a, b) => a + b, 0)).toBeCloseTo(3, 12);
  });

  it('is uniform without two past steps, for equal rates, and for unusable ratios', () => {
    expect(dynamicTaskWeights(null, null, 2)).toEqual([]);
    expect(dynamicTaskWeights(null, null, 2, 3)).toEqual([1, 1, 1]);
    expect(dynamicTaskWeights([1, 2], null, 2)).toEqual([1, 1]);
    expect(dynamicTaskWeights([0.5, 2], [1, 4], 2)).toEqual([1, 1]);
    const w = dynamicTaskWeights([NaN, 1], [1, 1], 2); // NaN ratio counts as 1
    expect(w[0]).toBeCloseTo(1, 12);
    expect(w[1]).toBeCloseTo(1, 12);
  });
});

describe('BDLFusion first-order hypergradient', () => {
  it('h = ∇θF + η·c·∇θf̃ with c = <∇yF,∇yf>/||∇yf||² on a tiny case', async () => {
    const g = {
      upperTheta: { t: tf.tensor1d([1, 1]) },
      upperY: { a: tf.tensor1d([1, 2]), b: tf.tensor1d([3]) },
      lowerY: { a: tf.tensor1d([2, 0]), b: tf.tensor1d([1]) },
      lowerTildeTheta: { t: tf.tensor1d([2, -2]) },
    };
    // <(1,2,3),(2,0,1)> = 5, ||(2,0,1)||² = 5 → c = 1; η = 0.5 → h = (1,1) + 0.5·(2,−2) = (2, 0).
    const r = bdlHypergradient(g, 0.5, 10);
    expect((await r.c.data())[0]).toBeCloseTo(1, 6);
    expect(await arr(r.h.t)).toEqual([2, 0]);
    tf.dispose([r.c, ...Object.values(r.h)]);
    // |c| is clipped to cMax.
    const clipped = bdlHypergradient(g, 0.5, 0.25);
    expect((await clipped.c.data())[0]).toBeCloseTo(0.25, 6);
    expect(await arr(clipped.h.t)).toEqual([1.25, 0.75]);
    tf.dispose([clipped.c, ...Object.values(clipped.h)]);
    // A frozen module has no implicit term.
    const frozen = bdlHypergradient({ ...g, upperY: null, lowerY: null, lowerTildeTheta: null }, 0.5, 10);
    expect((await frozen.c.data())[0]).toBe(0);
    expect(await arr(frozen.h.t)).toEqual([1, 1]);
    tf.dispose([frozen.c, ...Object.values(frozen.h)]);
    // No lower gradient at all: c = 0, not NaN.
    const zero = bdlHypergradient({ ...g, lowerY: { a: tf.zeros([2]), b: tf.zeros([1]) } }, 0.5, 10);
    expect((await zero.c.data())[0]).toBe(0);
    tf.dispose([zero.c, ...Object.values(zero.h), ...Object.values(g).flatMap((x) => Object.values(x))]);
  });
});

describe('DARTS finite-difference hypergradient (TDFusion meta step)', () => {
  // A convolution-free stand-in for F, G and S, elementwise over n "pixels", so that the exact
  // hypergradient ∇φ L_task(θ − ξ∇θ L_fusion(θ; φ)) can be taken with nested tf.grad.
  const n = 16;
  let ir: tf.Tensor1D, vi: tf.Tensor1D, label: tf.Tensor1D, theta0: tf.Tensor1D, phi0: tf.Tensor1D;
  beforeAll(async () => {
    await useBackend('cpu');
    const rng = new Rng(11);
    ir = tf.tensor1d(rng.uniformArray(n));
    vi = tf.tensor1d(rng.uniformArray(n));
    label = tf.tensor1d(Float32Array.from(rng.uniformArray(n), (u) => (u > 0.5 ? 1 : 0)));
    theta0 = tf.tensor1d(rng.normalArray(3 * n, 0, 1));
    phi0 = tf.tensor1d(rng.normalArray(2 * n, 0, 1));
  });
  // F_θ: per-pixel blend logit a·IR + b·VI + c, θ = (a, b, c) per pixel.
  const fuse = (theta: tf.Tensor) => {
    const [a, b, c] = tf.split(theta, 3);
    return tf.sigmoid(tf.add(tf.add(tf.mul(a, ir), tf.mul(b, vi)), c));
  };
  // L_fusion(θ; φ): TDFusion's weighted intensity loss with w_ir = sigmoid(φ0·(IR − VI) + φ1), w_vi = 1 − w_ir.
  const fusionLoss = (theta: tf.Tensor, phi: tf.Tensor) => {
    const f = fuse(theta);
    const [p0, p1] = tf.split(phi, 2);
    const wIr = tf.sigmoid(tf.add(tf.mul(p0, tf.sub(ir, vi)), p1));
    const a = tf.mean(tf.square(tf.mul(wIr, tf.sub(ir, f))));
    const b = tf.mean(tf.square(tf.mul(tf.sub(1, wIr), tf.sub(vi, f))));
    return tf.add(a, b) as tf.Scalar;
  };
  // L_task(θ): a per-pixel logistic "segmenter" s·F + t on the fused values against labels.
  const taskLoss = (theta: tf.Tensor) => {
    const z = tf.add(tf.mul(fuse(theta), 6), -3);
    return tf.mean(tf.sub(tf.softplus(z), tf.mul(label, z))) as tf.Scalar;
  };

  const exact = (xi: number) => tf.grad((phi: tf.Tensor) => {
    const g = tf.grad((t: tf.Tensor) => fusionLoss(t, phi))(theta0);
    return taskLoss(tf.sub(theta0, tf.mul(g, xi)));
  })(phi0);

  for (const xi of [0.05, 1]) {
    it(`matches the exact hypergradient within 1e-2 relative (ξ = ${xi})`, async () => {
      const theta = { w: tf.variable(theta0.clone()) };
      const phi = { w: tf.variable(phi0.clone()) };
      const before = tf.memory().numTensors;
      const r = dartsHypergradient({
        theta, phi, xi, radius: 0.01,
        fusionLoss: () => ({ total: fusionLoss(theta.w, phi.w), terms: {} }),
        taskLoss: () => ({ total: taskLoss(theta.w), terms: {} }),
      });
      const got = await arr(r.hypergrad.w);
      tf.dispose([r.taskAtVirtual, r.fusionAtTheta, r.epsilon, ...Object.values(r.hypergrad)]);
      expect(tf.memory().numTensors).toBe(before);
      const ex = exact(xi);
      const want = await arr(ex);
      ex.dispose();
      const err = Math.hypot(...got.map((g, i) => g - want[i])) / Math.hypot(...want);
      expect(Math.hypot(...want)).toBeGreaterThan(1e-6);
      expect(err).toBeLessThan(1e-2);
      // θ is back to its value, φ untouched.
      expect(await arr(theta.w)).toEqual(await arr(theta0));
      expect(await arr(phi.w)).toEqual(await arr(phi0));
      tf.dispose([theta.w, phi.w]);
    });
  }
});
