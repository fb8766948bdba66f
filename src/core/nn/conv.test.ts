import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing';
import { conv2d, convMacs, countConvMacs, samePadding, type ConvActivation } from './conv';
import { Rng } from './random';
import { variableGradsOf } from './split-grad';
import { randn, relErr } from './nn-test-utils';

interface Case { b: number; h: number; w: number; cin: number; cout: number; k: number; stride: 1 | 2 }
const CASES: Case[] = [];
for (const k of [1, 3]) {
  for (const stride of [1, 2] as const) {
    CASES.push({ b: 2, h: 8, w: 10, cin: 3, cout: 4, k, stride }); // even sizes
    CASES.push({ b: 3, h: 7, w: 9, cin: 2, cout: 5, k, stride }); // odd sizes
  }
}
CASES.push({ b: 1, h: 6, w: 5, cin: 4, cout: 3, k: 5, stride: 2 });

/** Loss = sum(r ⊙ act(conv(x, w) + b)) with a fixed random r; returns value and grads. */
function gradsOf(
  c: Case, act: ConvActivation, useNative: boolean, seed: number,
): { y: Float32Array; dx: Float32Array; dw: Float32Array; db: Float32Array } {
  const rng = new Rng(seed);
  const x = randn(rng, [c.b, c.h, c.w, c.cin]) as tf.Tensor4D;
  const w = randn(rng, [c.k, c.k, c.cin, c.cout], 0.5) as tf.Tensor4D;
  const bias = randn(rng, [c.cout], 0.3) as tf.Tensor1D;
  const oh = Math.ceil(c.h / c.stride);
  const ow = Math.ceil(c.w / c.stride);
  const r = randn(rng, [c.b, oh, ow, c.cout]);
  const f = (xx: tf.Tensor4D, ww: tf.Tensor4D, bb: tf.Tensor1D): tf.Tensor4D => {
    if (!useNative) return conv2d(xx, ww, bb, { stride: c.stride, activation: act, alpha: 0.1 });
    const z = tf.add(tf.conv2d(xx, ww, c.stride, 'same'), bb) as tf.Tensor4D;
    if (act === 'relu') return tf.relu(z);
    if (act === 'leakyrelu') return tf.leakyRelu(z, 0.1);
    if (act === 'sigmoid') return tf.sigmoid(z);
    return z;
  };
  const y = f(x, w, bias);
  const g = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
    tf.sum(tf.mul(f(xx as tf.Tensor4D, ww as tf.Tensor4D, bb as tf.Tensor1D), r)));
  const [dx, dw, db] = g([x, w, bias]);
  const out = {
    y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array,
    dw: dw.dataSync() as Float32Array, db: db.dataSync() as Float32Array,
  };
  tf.dispose([x, w, bias, r, y, dx, dw, db]);
  return out;
}

describe('conv2d (custom gradient)', () => {
  beforeAll(async () => { await useBackend('cpu'); });
  afterAll(async () => { await useBackend('cpu'); });

  it('runs the plain conv at inference, and one node per layer under a tape', async () => {
    const rng = new Rng(4);
    const x = randn(rng, [1, 8, 8, 3]) as tf.Tensor4D, w = randn(rng, [3, 3, 3, 4]) as tf.Tensor4D, b = randn(rng, [4]) as tf.Tensor1D;
    const kernels = async (f: () => tf.Tensor | tf.Tensor[]) => (await tf.profile(() => f())).kernels.map((k) => k.name);
    const plain = await kernels(() => conv2d(x, w, b, { activation: 'relu' }));
    expect(plain).not.toContain('forward'); // the custom op's scope
    expect(plain).not.toContain('Identity'); // nothing saved for a gradient
    const taped = await kernels(() => tf.grad((xi: tf.Tensor) => tf.sum(conv2d(xi as tf.Tensor4D, w, b, { activation: 'relu' })))(x));
    expect(taped).not.toContain('ZerosLike');
    tf.dispose([x, w, b]);
  });

  it('takes no kernel gradient of a layer whose parameters are not gradient targets', async () => {
    const rng = new Rng(5);
    const x = tf.variable(randn(rng, [2, 8, 8, 3]));
    const w = tf.variable(randn(rng, [3, 3, 3, 4]));
    const loss = () => tf.sum(conv2d(x as tf.Tensor4D, w as tf.Tensor4D, null, { activation: 'relu' })) as tf.Scalar;
    const convs = async (vars: tf.Variable[]) => {
      const p = await tf.profile(() => Object.values(variableGradsOf(loss, vars).grads));
      return p.kernels.filter((k) => k.name === 'Conv2D').length;
    };
    // Forward and dx; then also dW (a channels-as-batch conv).
    expect(await convs([x])).toBe(2);
    expect(await convs([x, w])).toBe(3);
    const { grads } = variableGradsOf(loss, [x]);
    expect(Object.keys(grads)).toEqual([x.name]);
    tf.dispose([x, w, ...Object.values(grads)]);
  });

  it('computes TensorFlow same-padding sizes', () => {
    expect(samePadding(8, 3, 2)).toEqual({ out: 4, before: 0, after: 1 });
    expect(samePadding(7, 3, 2)).toEqual({ out: 4, before: 1, after: 1 });
    expect(samePadding(8, 1, 2)).toEqual({ out: 4, before: 0, after: 0 });
    expect(samePadding(9, 3, 1)).toEqual({ out: 9, before: 1, after: 1 });
    expect(convMacs(8, 10, 3, 2, 4, 2)).toBe(4 * 5 * 9 * 2 * 4);
  });

  for (const c of CASES) {
    for (const act of ['linear', 'relu'] as ConvActivation[]) {
      it(`matches native gradients on CPU: k=${c.k} s=${c.stride} ${c.h}x${c.w} ${act}`, () => {
        const mine = gradsOf(c, act, false, 11);
        const ref = gradsOf(c, act, true, 11);
        expect(relErr(mine.y, ref.y)).toBeLessThan(1e-5);
        expect(relErr(mine.dx, ref.dx)).toBeLessThan(1e-5);
        expect(relErr(mine.dw, ref.dw)).toBeLessThan(1e-5);
        expect(relErr(mine.db, ref.db)).toBeLessThan(1e-5);
      });
    }
  }

  for (const act of ['leakyrelu', 'sigmoid'] as ConvActivation[]) {
    it(`matches native gradients on CPU with ${act}`, () => {
      const c = CASES[5];
      const mine = gradsOf(c, act, false, 5);
      const ref = gradsOf(c, act, true, 5);
      expect(relErr(mine.dx, ref.dx)).toBeLessThan(1e-5);
      expect(relErr(mine.dw, ref.dw)).toBeLessThan(1e-5);
      expect(relErr(mine.db, ref.db)).toBeLessThan(1e-5);
    });
  }

  it('gives the same forward and gradients on WASM as the native op on CPU', async () => {
    const picks = [CASES[2], CASES[3], CASES[6], CASES[7], CASES[8]];
    const refs = picks.map((c) => gradsOf(c, 'relu', true, 3));
    await useBackend('wasm');
    try {
      picks.forEach((c, i) => {
        const got = gradsOf(c, 'relu', false, 3);
        expect(relErr(got.y, refs[i].y)).toBeLessThan(1e-5);
        expect(relErr(got.dx, refs[i].dx)).toBeLessThan(1e-5);
        expect(relErr(got.dw, refs[i].dw)).toBeLessThan(1e-5);
        expect(relErr(got.db, refs[i].db)).toBeLessThan(1e-5);
      });
    } finally {
      await useBackend('cpu');
    }
  });

  it('trains a variable through optimizer.minimize on WASM', async () => {
    await useBackend('wasm');
    try {
      const rng = new Rng(1);
      const x = randn(rng, [2, 8, 8, 2]) as tf.Tensor4D;
      const target = randn(rng, [2, 4, 4, 3]);
      const w = tf.variable(randn(rng, [3, 3, 2, 3], 0.3));
      const b = tf.variable(tf.zeros([3]));
      const opt = tf.train.adam(0.05, 0.9, 0.999, 1e-7);
      const loss = () => tf.mean(tf.square(tf.sub(conv2d(x, w as tf.Variable<tf.Rank.R4>, b as tf.Variable<tf.Rank.R1>, { stride: 2 }), target))) as tf.Scalar;
      const l0 = tf.tidy(loss).dataSync()[0];
      for (let i = 0; i < 50; i++) opt.minimize(loss, true)?.dispose();
      const l1 = tf.tidy(loss).dataSync()[0];
      expect(l1).toBeLessThan(0.8 * l0);
      tf.dispose([x, target, w, b]);
      opt.dispose();
    } finally {
      await useBackend('cpu');
    }
  });

  it('counts MACs of the calls it wraps and leaks no tensors', () => {
    const x = tf.ones([2, 8, 6, 3]) as tf.Tensor4D;
    const w = tf.ones([3, 3, 3, 4]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const { macs } = countConvMacs(() => tf.tidy(() => {
      const y = conv2d(x, w, null, { stride: 2, activation: 'relu' });
      conv2d(y, tf.ones([1, 1, 4, 5]) as tf.Tensor4D);
    }));
    expect(tf.memory().numTensors).toBe(before);
    expect(macs).toBe(2 * (4 * 3 * 9 * 3 * 4 + 4 * 3 * 4 * 5));
    // gradients inside tidy leave nothing behind either
    const before2 = tf.memory().numTensors;
    tf.tidy(() => {
      tf.grads((a: tf.Tensor) => tf.sum(conv2d(a as tf.Tensor4D, w, null, { stride: 2 })))([x]);
    });
    expect(tf.memory().numTensors).toBe(before2);
    tf.dispose([x, w]);
  });

  it('rejects even kernels and channel mismatches', () => {
    const x = tf.zeros([1, 4, 4, 2]) as tf.Tensor4D;
    expect(() => conv2d(x, tf.zeros([2, 2, 2, 1]) as tf.Tensor4D)).toThrow(/odd/);
    expect(() => conv2d(x, tf.zeros([3, 3, 3, 1]) as tf.Tensor4D)).toThrow(/channels/);
    x.dispose();
  });
});
