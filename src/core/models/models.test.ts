/**
 * The checks every model must pass: shapes, budgets, exact MAC counts, no tensor leaks,
 * seeded init, gradients against finite differences, and WASM against CPU.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing';
import { countConvMacs } from '../nn/conv';
import { disposeParams, checkParams, type ModelDef } from './model-def';
import {
  directionalCheck, maxRelErr, outputTensors, probeGrads, probeWeights, randomInput, randomiseParams,
} from './model-test-utils';
import { fusion } from './fusion';
import { segdet, segdetFanIn } from './segdet';
import { countDepthwiseMacs } from '../nn/depthwise';
import { discriminator } from './discriminator';
import { lossGenerator } from './loss-generator';
import { MODELS } from './registry';

interface Case {
  model: ModelDef<unknown>;
  inChannels: number;
  /** Expected output shapes for input [2, 64, 96, C]. */
  outShapes: number[][];
  maxParams: number;
  /** Budget of multiply-adds at 640×480. */
  maxMacs640: number;
  /** Tiny input for finite differences and backend comparison. */
  tiny: number[];
  /** Parameters probed by finite differences. */
  probe: string[];
  /**
   * Finite-difference step (on a unit direction over the whole parameter). Float32 forward
   * noise grows as the step shrinks and relu kinks bite as it grows; this is the measured sweet
   * spot for the model's depth and output size.
   */
  eps: number;
  /** Fan-in of a kernel where it is not k²·C_in (for `randomiseParams`). */
  fanIn?: (name: string) => number | undefined;
  /** Per-probe steps where one parameter needs another (kinks close by, or a small gradient). */
  epsFor?: Record<string, number>;
}

const CASES: Case[] = [
  {
    model: fusion as ModelDef<unknown>, inChannels: 2, outShapes: [[2, 64, 96, 1]],
    maxParams: 200_000, maxMacs640: 4000 * 640 * 480,
    tiny: [2, 8, 12, 2], probe: ['e0/kernel', 'e2/kernel', 'm2/bias', 'u0/kernel', 'head/kernel', 'head/gain'],
    eps: 1e-3,
  },
  {
    model: segdet as ModelDef<unknown>, inChannels: 3,
    outShapes: [[2, 16, 24, 7], [2, 64, 96, 9]], // sorted keys: det, seg
    // No MAC budget is set for S (a MobileNetV3 backbone); these bounds keep it near today's 1.52 G and 2.01 M.
    maxParams: 2_100_000, maxMacs640: 1.6e9,
    // The stem's 0–255 input scale counts in its fan-in; depthwise kernels keep k²·C (the weaker
    // signal keeps the deep layers off relu6 kinks that finite differences would straddle).
    fanIn: (name) => (name === 'stem/kernel' ? segdetFanIn(name) : undefined),
    tiny: [1, 32, 64, 3],
    probe: ['stem/kernel', 'b1/dw/kernel', 'b3/expand/kernel', 'c2r/dw/kernel', 'cls/pw/bias', 'cls/dw/kernel', 'box/dw/kernel', 'seg/reduce/kernel', 'seg/dw/bias', 'seg/low/kernel'],
    // 29 hard-swish layers put a relu6 kink within 3e-3 of many activations: a smaller step.
    // (Without batch norm, a randomly initialised S passes little gradient below b4 on a tiny
    // input, so the probes sit where it has signal; the import test checks the deep layers.)
    eps: 1e-3,
    // Every activation moves with the stem (whose kernel is 255× smaller for its 0–255 input),
    // and every pixel of a channel with a relu bias:
    // kinks close by.
    epsFor: { 'stem/kernel': 3e-4 / 255, 'seg/dw/bias': 1e-4 },
  },
  {
    model: discriminator as ModelDef<unknown>, inChannels: 1, outShapes: [[2, 4, 6, 1]],
    maxParams: 50_000, maxMacs640: 500 * 640 * 480, // "tiny"
    tiny: [2, 16, 32, 1], probe: ['d1/kernel', 'd3/bias', 'd4/kernel', 'out/kernel'],
    eps: 1e-3,
  },
  {
    model: lossGenerator as ModelDef<unknown>, inChannels: 2, outShapes: [[2, 64, 96, 2]],
    maxParams: 20_000, maxMacs640: 2000 * 640 * 480,
    tiny: [2, 8, 12, 2], probe: ['g0/kernel', 'g2/kernel', 'gu/bias', 'head/kernel', 'head/gain'],
    eps: 1e-3,
  },
];

describe('registry', () => {
  it('lists every model under its own name, each tested below', () => {
    expect(Object.keys(MODELS).sort()).toEqual(['discriminator', 'fusion', 'lossGenerator', 'segdet']);
    for (const [name, m] of Object.entries(MODELS)) expect(m.name).toBe(name);
    expect(CASES.map((c) => c.model.name).sort()).toEqual(Object.keys(MODELS).sort());
  });
});

describe.each(CASES)('model $model.name', (c) => {
  const { model } = c;
  let params: ReturnType<typeof model.init>;
  beforeAll(async () => {
    await useBackend('cpu');
    params = model.init(7);
  });
  afterAll(() => disposeParams(params));

  it('has the expected output shapes and frees every intermediate', () => {
    const x = randomInput([2, 64, 96, c.inChannels], 1);
    const before = tf.memory().numTensors;
    const outs = outputTensors(model.apply(params, x));
    expect(outs.map((t) => t.shape)).toEqual(c.outShapes);
    expect(tf.memory().numTensors).toBe(before + outs.length);
    tf.dispose(outs);
    tf.tidy(() => { model.apply(params, x); });
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('stays within its parameter and multiply-add budgets', () => {
    expect(model.paramCount(params)).toBeLessThanOrEqual(c.maxParams);
    expect(model.macs(480, 640)).toBeLessThanOrEqual(c.maxMacs640);
    expect(model.macs(480, 640)).toBe(model.macs(640, 480));
  });

  it('reports exactly the multiply-adds that apply runs', () => {
    const x = randomInput([2, 64, 96, c.inChannels], 1);
    const { result: dwMacs, macs } = countConvMacs(() => countDepthwiseMacs(() => tf.tidy(() => { model.apply(params, x); })).macs);
    expect(macs + dwMacs).toBe(2 * model.macs(64, 96));
    x.dispose();
  });

  it('initialises deterministically from the seed', () => {
    const a = model.init(3);
    const b = model.init(3);
    const d = model.init(4);
    const names = Object.keys(a).sort();
    expect(Object.keys(b).sort()).toEqual(names);
    const k = names.find((n) => n.endsWith('/kernel'))!;
    expect(Array.from(a[k].dataSync())).toEqual(Array.from(b[k].dataSync()));
    expect(Array.from(a[k].dataSync())).not.toEqual(Array.from(d[k].dataSync()));
    expect(() => checkParams(model, a)).not.toThrow();
    const first = names[0];
    const partial = { ...a };
    delete partial[first];
    expect(() => checkParams(model, partial)).toThrow(new RegExp(`missing parameter '${first}'`));
    [a, b, d].forEach(disposeParams);
  });

  it('rejects inputs of the wrong shape', () => {
    const bad = tf.zeros([1, model.stride * 2 + 1, model.stride * 2, c.inChannels]) as tf.Tensor4D;
    expect(() => model.apply(params, bad)).toThrow(/multiples of/);
    const badC = tf.zeros([1, model.stride, model.stride, c.inChannels + 1]) as tf.Tensor4D;
    expect(() => model.apply(params, badC)).toThrow(/input must be/);
    tf.dispose([bad, badC]);
  });

  it('has gradients equal to central finite differences', () => {
    const p = model.init(11);
    randomiseParams(p, 5, c.fanIn);
    const x = randomInput(c.tiny, 2);
    const rs = probeWeights(model, p, x, 3);
    const { grads } = probeGrads(model, p, x, rs, c.probe);
    for (const [i, name] of c.probe.entries()) {
      // Median over three steps: one step may straddle a relu kink or catch float32 noise.
      const runs = [0.5, 1, 2].map((f) => directionalCheck(model, p, x, rs, name, grads[name], f * (c.epsFor?.[name] ?? c.eps), 100 + i));
      const analytic = runs[0].analytic;
      const numeric = runs.map((r) => r.numeric).sort((a, b) => a - b)[1];
      expect(Math.abs(analytic), name).toBeGreaterThan(1e-2); // the probe sees a real signal
      // 2 %: float32 central differences through a deep relu net are good to about 1 %
      // (measured); a wrong transpose, flip, stride or missing term is off by far more.
      // eslint-disable-next-line no-console
      console.log(`FD ${model.name} ${name}: ${analytic.toPrecision(6)} vs ${numeric.toPrecision(6)}`);
      expect(Math.abs(analytic - numeric), `${name}: ${analytic} vs ${numeric}`).toBeLessThan(0.02 * Math.abs(analytic));
    }
    x.dispose();
    disposeParams(p);
  });

  it('gives the same outputs and gradients on WASM as on CPU', async () => {
    const p = model.init(13);
    randomiseParams(p, 6, c.fanIn);
    const x = randomInput(c.tiny, 4);
    const rs = probeWeights(model, p, x, 5);
    const names = Object.keys(p).sort();
    const ref = probeGrads(model, p, x, rs, names);
    await useBackend('wasm');
    try {
      const got = probeGrads(model, p, x, rs, names);
      const outErr = maxRelErr(got.outputs, ref.outputs);
      const gradErr = Math.max(...names.map((n) => maxRelErr([got.grads[n]], [ref.grads[n]])));
      // eslint-disable-next-line no-console
      console.log(model.name, 'wasm vs cpu', outErr, gradErr);
      expect(outErr).toBeLessThan(1e-5);
      expect(gradErr).toBeLessThan(1e-4);
    } finally {
      await useBackend('cpu');
    }
    x.dispose();
    disposeParams(p);
  });
});
