import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing';
import { countDepthwiseMacs, depthwiseConv2d, depthwiseMacs, type DepthwiseActivation } from './depthwise';
import { Rng } from './random';
import { randn, relErr } from './nn-test-utils';

interface Case { b: number; h: number; w: number; c: number; k: number; stride: 1 | 2 }
const CASES: Case[] = [];
for (const k of [3, 5]) {
  for (const stride of [1, 2] as const) {
    CASES.push({ b: 2, h: 8, w: 10, c: 3, k, stride }); // even sizes
    CASES.push({ b: 3, h: 7, w: 9, c: 2, k, stride }); // odd sizes
  }
}
CASES.push({ b: 1, h: 4, w: 6, c: 4, k: 5, stride: 2 }); // kernel wider than half the input

/** Loss = sum(r ⊙ act(dw(x, w) + b)); its value and gradients, ours or tfjs's native ones. */
function gradsOf(c: Case, act: DepthwiseActivation, native: boolean, seed: number): Float32Array[] {
  const rng = new Rng(seed);
  const x = randn(rng, [c.b, c.h, c.w, c.c]) as tf.Tensor4D;
  const w = randn(rng, [c.k, c.k, c.c, 1], 0.5) as tf.Tensor4D;
  const bias = randn(rng, [c.c], 0.3) as tf.Tensor1D;
  const r = randn(rng, [c.b, Math.ceil(c.h / c.stride), Math.ceil(c.w / c.stride), c.c]);
  const f = (xx: tf.Tensor4D, ww: tf.Tensor4D, bb: tf.Tensor1D): tf.Tensor4D => {
    if (!native) return depthwiseConv2d(xx, ww, bb, { stride: c.stride, activation: act });
    const z = tf.add(tf.depthwiseConv2d(xx, ww, c.stride, 'same'), bb) as tf.Tensor4D;
    return act === 'relu' ? tf.relu(z) : z;
  };
  const y = f(x, w, bias);
  const g = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
    tf.sum(tf.mul(f(xx as tf.Tensor4D, ww as tf.Tensor4D, bb as tf.Tensor1D), r)));
  const grads = g([x, w, bias]);
  const out = [y, ...grads].map((t) => t.dataSync() as Float32Array);
  tf.dispose([x, w, bias, r, y, ...grads]);
  return out;
}

describe('depthwiseConv2d (custom gradient)', () => {
  beforeAll(async () => { await useBackend('cpu'); });
  afterAll(async () => { await useBackend('cpu'); });

  for (const c of CASES) {
    for (const act of ['linear', 'relu'] as DepthwiseActivation[]) {
      it(`matches native gradients on CPU: k=${c.k} s=${c.stride} ${c.h}x${c.w} ${act}`, () => {
        const mine = gradsOf(c, act, false, 5);
        const ref = gradsOf(c, act, true, 5);
        for (let i = 0; i < 4; i++) expect(relErr(mine[i], ref[i])).toBeLessThan(1e-5);
      });
    }
  }

  it('gives the same gradients on WASM as tfjs native ones on CPU', async () => {
    const c: Case = { b: 2, h: 12, w: 10, c: 5, k: 5, stride: 2 };
    const ref = gradsOf(c, 'relu', true, 9);
    await useBackend('wasm');
    try {
      const mine = gradsOf(c, 'relu', false, 9);
      for (let i = 0; i < 4; i++) expect(relErr(mine[i], ref[i])).toBeLessThan(1e-5);
    } finally {
      await useBackend('cpu');
    }
  });

  it('counts its multiply-adds and rejects bad shapes', () => {
    const x = tf.zeros([2, 8, 10, 3]) as tf.Tensor4D;
    const w = tf.zeros([3, 3, 3, 1]) as tf.Tensor4D;
    const { result, macs } = countDepthwiseMacs(() => depthwiseConv2d(x, w, null, { stride: 2 }));
    expect(result.shape).toEqual([2, 4, 5, 3]);
    expect(macs).toBe(2 * depthwiseMacs(8, 10, 3, 3, 2));
    expect(() => depthwiseConv2d(x, tf.zeros([3, 3, 4, 1]) as tf.Tensor4D)).toThrow(/channels/);
    expect(() => depthwiseConv2d(x, tf.zeros([2, 2, 3, 1]) as tf.Tensor4D)).toThrow(/odd/);
    tf.dispose([x, w, result]);
  });
});
