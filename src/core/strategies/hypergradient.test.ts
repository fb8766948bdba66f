import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing';
import { Rng } from '../nn/random';
import { DwaWindows, bdlHypergradient, dynamicTaskWeights } from './bdl';
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

describe('DWA over windows', () => {
  it('keeps w = 1 until two windows are complete, then raises the weight of a stalled task', () => {
    const d = new DwaWindows(2, 6);
    const weights: number[][] = [];
    for (let step = 0; step < 36; step++) {
      weights.push(d.weights(2));
      // Task 0 keeps descending by 20 % a window; task 1 has stalled. Both are noisy per step,
      // so that per-step ratios would swing far more than the windows' means.
      const noise = step % 2 ? 1.3 : 0.7;
      d.push([noise * 0.8 ** Math.floor(step / 6), noise * 1.0]);
    }
    expect(weights.slice(0, 12).every((w) => w[0] === 1 && w[1] === 1)).toBe(true);
    for (const w of weights.slice(12)) {
      expect(w[1]).toBeGreaterThan(1.02);
      expect(w[0] + w[1]).toBeCloseTo(2, 12);
    }
    // Ratios 0.8 and 1.0 at T = 2: w_stalled = 2·e^0.5 / (e^0.4 + e^0.5).
    expect(weights[35][1]).toBeCloseTo((2 * Math.exp(0.5)) / (Math.exp(0.4) + Math.exp(0.5)), 6);
  });
});

describe('BDLFusion first-order hypergradient', () => {
  it('h = ∇θF − η·c·∇θf̃ with c = <∇yf(val),∇yf(tr)>/||∇yf(tr)||² on a tiny case', async () => {
    const g = {
      upperTheta: { t: tf.tensor1d([1, 1]) },
      heldOutY: { a: tf.tensor1d([1, 2]), b: tf.tensor1d([3]) },
      lowerY: { a: tf.tensor1d([2, 0]), b: tf.tensor1d([1]) },
      lowerTildeTheta: { t: tf.tensor1d([2, -2]) },
    };
    // <(1,2,3),(2,0,1)> = 5, ||(2,0,1)||² = 5 → c = 1; η = 0.5 → h = (1,1) − 0.5·(2,−2) = (0, 2).
    const r = bdlHypergradient(g, 0.5, 10);
    expect((await r.c.data())[0]).toBeCloseTo(1, 6);
    expect(await arr(r.h.t)).toEqual([0, 2]);
    tf.dispose([r.c, ...Object.values(r.h)]);
    // |c| is clipped to cMax.
    const clipped = bdlHypergradient(g, 0.5, 0.25);
    expect((await clipped.c.data())[0]).toBeCloseTo(0.25, 6);
    expect(await arr(clipped.h.t)).toEqual([0.75, 1.25]);
    tf.dispose([clipped.c, ...Object.values(clipped.h)]);
    // A frozen module has no implicit term.
    const frozen = bdlHypergradient({ ...g, heldOutY: null, lowerY: null, lowerTildeTheta: null }, 0.5, 10);
    expect((await frozen.c.data())[0]).toBe(0);
    expect(await arr(frozen.h.t)).toEqual([1, 1]);
    tf.dispose([frozen.c, ...Object.values(frozen.h)]);
    // No lower gradient at all: c = 0, not NaN.
    const zero = bdlHypergradient({ ...g, lowerY: { a: tf.zeros([2]), b: tf.zeros([1]) } }, 0.5, 10);
    expect((await zero.c.data())[0]).toBe(0);
    tf.dispose([zero.c, ...Object.values(zero.h), ...Object.values(g).flatMap((x) => Object.values(x))]);
  });

  // A quadratic lower level where the one-step hypergradient is known in closed form:
  // f(θ, y; b) = ½||y − Aθ − b||² (the module's objective on a batch b), upper objective
  // F(θ, y) = f(θ, y; b_val) + ½μ||θ − θ*||², lower step y' = y − η∇_y f(θ, y; b_tr).
  // Exact: d/dθ F(θ, y'(θ)) = ∇_θF(θ, y') + ηAᵀ∇_yF(θ, y') (∂y'/∂θ = ηA).
  describe('against the exact hypergradient of a quadratic lower level', () => {
    const n = 6, m = 8, mu = 0.5;
    const rng = new Rng(5);
    let A: tf.Tensor2D, theta: tf.Tensor1D, thetaStar: tf.Tensor1D, y: tf.Tensor1D, bTr: tf.Tensor1D;
    beforeAll(async () => {
      await useBackend('cpu');
      A = tf.tensor2d(rng.normalArray(m * n, 0, 0.5), [m, n]);
      theta = tf.tensor1d(rng.normalArray(n, 0, 1));
      thetaStar = tf.tensor1d(rng.normalArray(n, 0, 1));
      y = tf.tensor1d(rng.normalArray(m, 0, 1));
      bTr = tf.tensor1d(rng.normalArray(m, 0, 1));
    });
    const f = (t: tf.Tensor1D, yy: tf.Tensor1D, b: tf.Tensor1D) =>
      tf.mul(0.5, tf.sum(tf.square(tf.sub(tf.sub(yy, tf.squeeze(tf.matMul(A, tf.reshape(t, [n, 1])))), b)))) as tf.Scalar;
    const upper = (t: tf.Tensor1D, yy: tf.Tensor1D, bVal: tf.Tensor1D) =>
      tf.add(f(t, yy, bVal), tf.mul(0.5 * mu, tf.sum(tf.square(tf.sub(t, thetaStar))))) as tf.Scalar;
    const cosine = async (a: tf.Tensor, b: tf.Tensor) => {
      const [x, z] = [await arr(a), await arr(b)];
      return x.reduce((s, v, i) => s + v * z[i], 0) / (Math.hypot(...x) * Math.hypot(...z));
    };
    const case_ = (bVal: tf.Tensor1D, eta: number) => tf.tidy(() => {
      const gyTr = tf.grad((yy: tf.Tensor) => f(theta, yy as tf.Tensor1D, bTr))(y);
      const exact = tf.grad((t: tf.Tensor) => {
        const yStep = tf.sub(y, tf.mul(eta, tf.sub(tf.sub(y, tf.squeeze(tf.matMul(A, tf.reshape(t, [n, 1])))), bTr)));
        return upper(t as tf.Tensor1D, yStep as tf.Tensor1D, bVal);
      })(theta);
      const r = bdlHypergradient({
        upperTheta: { t: tf.grad((t: tf.Tensor) => upper(t as tf.Tensor1D, y, bVal))(theta) },
        heldOutY: { y: tf.grad((yy: tf.Tensor) => f(theta, yy as tf.Tensor1D, bVal))(y) },
        lowerY: { y: gyTr },
        lowerTildeTheta: { t: tf.grad((t: tf.Tensor) => f(t as tf.Tensor1D, y, bTr))(theta) },
      }, eta, 10);
      const explicitOnly = tf.grad((t: tf.Tensor) => upper(t as tf.Tensor1D, y, bVal))(theta);
      return { exact, h: r.h.t, c: r.c, explicitOnly };
    });

    it('cosine ≥ 0.9 with the exact one, and closer to it than the explicit gradient alone', async () => {
      // Held-out data close to the training data: the projection holds.
      const bVal = tf.add(bTr, tf.tensor1d(rng.normalArray(m, 0, 0.1))) as tf.Tensor1D;
      for (const eta of [0.05, 0.3]) {
        const r = case_(bVal, eta);
        const cos = await cosine(r.h, r.exact);
        expect(cos, `η = ${eta}`).toBeGreaterThanOrEqual(0.9);
        const err = (await arr(tf.sub(r.h, r.exact))).map(Math.abs).reduce((a, b) => a + b, 0);
        const errExplicit = (await arr(tf.sub(r.explicitOnly, r.exact))).map(Math.abs).reduce((a, b) => a + b, 0);
        expect(err).toBeLessThan(errExplicit);
        tf.dispose(Object.values(r));
      }
      bVal.dispose();
    });

    it("c's sign says whether the held-out and training gradients agree", async () => {
      const agree = tf.add(bTr, tf.tensor1d(rng.normalArray(m, 0, 0.1))) as tf.Tensor1D;
      const r1 = case_(agree, 0.1);
      expect((await r1.c.data())[0]).toBeGreaterThan(0.5);
      // Held-out targets on the far side of y: ∇_y f(val) points against ∇_y f(tr).
      const yMinusATheta = tf.tidy(() => tf.sub(y, tf.squeeze(tf.matMul(A, tf.reshape(theta, [n, 1])))));
      const opposed = tf.tidy(() => tf.sub(tf.mul(yMinusATheta, 2), bTr)) as tf.Tensor1D;
      const r2 = case_(opposed, 0.1);
      expect((await r2.c.data())[0]).toBeLessThan(-0.5);
      tf.dispose([...Object.values(r1), ...Object.values(r2), agree, opposed, yMinusATheta]);
    });
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

  it('stays faithful over the whole allowed range of the relative radius (cosine ≥ 0.99)', async () => {
    const ex = exact(0.05);
    const want = await arr(ex);
    ex.dispose();
    for (const radius of [1e-5, 1e-4, 1e-3, 1e-2]) {
      const theta = { w: tf.variable(theta0.clone()) };
      const phi = { w: tf.variable(phi0.clone()) };
      const r = dartsHypergradient({
        theta, phi, xi: 0.05, radius,
        fusionLoss: () => ({ total: fusionLoss(theta.w, phi.w), terms: {} }),
        taskLoss: () => ({ total: taskLoss(theta.w), terms: {} }),
      });
      const got = await arr(r.hypergrad);
      // ε·||v|| is the probe length: radius·||θ||.
      const thetaNorm = Math.hypot(...(await arr(theta0)));
      expect((await r.epsilon.data())[0]).toBeGreaterThan(0);
      const cos = got.reduce((a, g, i) => a + g * want[i], 0) / (Math.hypot(...got) * Math.hypot(...want));
      expect(cos, `r = ${radius} (probe ${(radius * thetaNorm).toExponential(1)})`).toBeGreaterThanOrEqual(0.99);
      tf.dispose([r.taskAtVirtual, r.fusionAtTheta, r.epsilon, r.hypergrad, theta.w, phi.w]);
    }
  });

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
      const got = await arr(r.hypergrad);
      tf.dispose([r.taskAtVirtual, r.fusionAtTheta, r.epsilon, r.hypergrad]);
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
