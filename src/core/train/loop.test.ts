import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing';
import { scheduledLr, trainLoop } from './loop';
import { Adam, FlatLayout, clipToNorm, vectorNorm } from './flat';

beforeAll(() => useBackend('cpu'));

describe('trainLoop', () => {
  it('fits a linear model and leaks no tensors', async () => {
    const params = { w: tf.variable(tf.tensor1d([0, 0])), b: tf.variable(tf.scalar(0)) };
    const x = tf.tensor2d([[1, 2], [3, 1], [0, 1], [2, 2]]);
    const y = tf.tensor1d([5, 5, 2, 6]); // y = 1*x0 + 2*x1 + 0
    const opt = new Adam(params);
    const before = tf.memory().numTensors;
    const logs = [];
    for await (const log of trainLoop({
      params, optimizer: opt, steps: 1000, seed: 1, lr: 0.1, lrMin: 0.001,
      loss: () => {
        const pred = x.matMul(params.w.reshape([2, 1])).reshape([4]).add(params.b);
        const mse = pred.sub(y).square().mean() as tf.Scalar;
        return { total: mse, terms: { mse } };
      },
    })) logs.push(log);
    expect(tf.memory().numTensors).toBe(before);
    expect(logs).toHaveLength(1000);
    expect(logs[999].terms.mse).toBeLessThan(1e-3);
    const w = await params.w.data();
    expect(w[0]).toBeCloseTo(1, 1);
    expect(w[1]).toBeCloseTo(2, 1);
    opt.dispose();
  });

  it('moves a parameter with lrScale s by s times the step of an unscaled one', async () => {
    // Adam's first step is lr·sign(g) for each parameter, so the ratio is exactly the scale.
    const params = { head: tf.variable(tf.scalar(1)), backbone: tf.variable(tf.scalar(1)) };
    const opt = new Adam(params, { lrScale: { backbone: 0.1 } });
    const grads = { head: tf.scalar(2), backbone: tf.scalar(2) };
    opt.apply(grads, 0.01);
    const head = 1 - (await params.head.data())[0], backbone = 1 - (await params.backbone.data())[0];
    expect(head).toBeCloseTo(0.01, 6);
    expect(backbone).toBeCloseTo(0.001, 6);
    tf.dispose(Object.values(grads));
    opt.dispose();
  });

  it('skips a step whose loss is NaN without moving parameters', async () => {
    const params = { w: tf.variable(tf.scalar(3)) };
    const opt = new Adam(params);
    const logs = [];
    for await (const log of trainLoop({
      params, optimizer: opt, steps: 2, seed: 1, lr: 0.1,
      loss: (step) => {
        const l = (step === 1 ? params.w.mul(NaN) : params.w.square()) as tf.Scalar;
        return { total: l, terms: {} };
      },
    })) logs.push({ skipped: log.skipped, w: (await params.w.data())[0] });
    expect(logs[0]).toEqual({ skipped: true, w: 3 });
    expect(logs[1].skipped).toBe(false);
    expect(logs[1].w).toBeLessThan(3);
    opt.dispose();
  });

  it('resumes exactly from a saved optimizer state', async () => {
    const run = async (split: boolean) => {
      const params = { w: tf.variable(tf.tensor1d([1, -2])) };
      const loss = () => ({ total: params.w.sub(tf.tensor1d([0.5, 0.5])).square().sum() as tf.Scalar, terms: {} });
      let opt = new Adam(params);
      const cfg = { params, seed: 3, lr: 0.1, steps: 10, loss };
      if (!split) {
        for await (const _ of trainLoop({ ...cfg, optimizer: opt }));
      } else {
        for await (const _ of trainLoop({ ...cfg, optimizer: opt, steps: 10 })) if (_.step === 4) break;
        const state = await opt.state();
        opt.dispose();
        opt = new Adam(params);
        opt.restore(state);
        for await (const _ of trainLoop({ ...cfg, optimizer: opt, startStep: 4 }));
      }
      opt.dispose();
      return Array.from(await params.w.data());
    };
    const whole = await run(false);
    const resumed = await run(true);
    expect(resumed[0]).toBeCloseTo(whole[0], 6);
    expect(resumed[1]).toBeCloseTo(whole[1], 6);
  });
});

describe('Adam', () => {
  it('holds its moments as two vectors over all parameters and frees them on dispose', () => {
    const params = { a: tf.variable(tf.zeros([3])), b: tf.variable(tf.zeros([2, 2])) };
    const before = tf.memory().numTensors;
    const opt = new Adam(params);
    expect(tf.memory().numTensors - before).toBe(2);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(Object.values(params));
  });

  it("takes Adam's first step, lr·g/(|g| + ε), on every parameter of the vector", async () => {
    const params = { a: tf.variable(tf.tensor1d([1, 2])), b: tf.variable(tf.tensor2d([[3]])) };
    const opt = new Adam(params);
    const grads = { a: tf.tensor1d([0.5, -2]), b: tf.tensor2d([[1e-3]]) };
    opt.apply(grads, 0.1);
    const a = await params.a.data();
    expect(a[0]).toBeCloseTo(0.9, 5);
    expect(a[1]).toBeCloseTo(2.1, 5);
    expect((await params.b.data())[0]).toBeCloseTo(3 - 0.1 * 1e-3 / (1e-3 + 1e-7), 5);
    expect(params.b.shape).toEqual([1, 1]);
    opt.dispose();
    tf.dispose([...Object.values(params), ...Object.values(grads)]);
  });
});

describe('schedule and clipping', () => {
  it('warms up linearly then decays by cosine to lrMin', () => {
    const o = { lr: 1, lrMin: 0.1, warmup: 10, steps: 110 };
    expect(scheduledLr(5, o)).toBeCloseTo(0.5);
    expect(scheduledLr(10, o)).toBeCloseTo(1);
    expect(scheduledLr(60, o)).toBeCloseTo(0.55);
    expect(scheduledLr(110, o)).toBeCloseTo(0.1);
  });
  it('scales gradients to the global norm, over the vector of all of them', async () => {
    const named = { a: tf.tensor1d([3, 0]), b: tf.tensor1d([4]) };
    const layout = new FlatLayout(named);
    const flat = layout.flatten(named);
    const norm = vectorNorm(flat);
    expect((await norm.data())[0]).toBeCloseTo(5);
    const g = layout.unflatten(clipToNorm(flat, norm, 1));
    expect(Array.from(await g.a.data())).toEqual([expect.closeTo(0.6), 0]);
    expect(Array.from(await g.b.data())[0]).toBeCloseTo(0.8);
    const loose = clipToNorm(flat, norm, 10);
    expect(Array.from(await loose.data())).toEqual([3, 0, 4]);
    tf.dispose([flat, norm, loose, ...Object.values(g), ...Object.values(named)]);
  });
});
