/**
 * S on tfjs's WebGPU backend (Dawn, the `webgpu` package) against WASM: the loss, the input
 * gradient and every clipped parameter gradient of a training step (`npm run webgpu-check`'s
 * comparison). This is the path of in-browser fine-tuning on WebGPU and of GPU training from the
 * CLI; three of its kernels once gave wrong numbers there with no exception (an addN of 177
 * inputs and a rank-6 pad, which did not build; a rank-2 denseBincount, which miscounted). The
 * strategies' steps are compared too, and S's training input and losses at a GPU batch size.
 * Needs a Vulkan driver: CI installs Mesa's CPU one and sets REQUIRE_WEBGPU=1, so there it cannot
 * be skipped.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, webgpuAdapter, webgpuErrors } from './node-backend';
import { loadModelFrom } from './weights-fs';
import { backendMaxPixels, createPipeline, type PipelineResult } from '../core/pipeline';
import { syntheticPair } from '../bench/scene';
import { compareGradients, relativeL2, segdetGradients } from './webgpu-check';
import { MODELS, MODEL_NAMES, type ModelName } from '../core/models/registry';
import { disposeParams } from '../core/models/model-def';
import { createStrategy, STRATEGY_NAMES, type StrategyName } from '../core/strategies/registry';
import { tinyCropBatch } from '../core/testing';
import type { Params } from '../core/types';
import { gradientLoss, intensityLoss, irSaliency, ssimLoss } from '../core/losses/fusion-losses';
import { detectionLossTerms, msrsClassWeights, segmentationDiceLoss, segmentationLoss } from '../core/losses/task-losses';
import { conv2d } from '../core/nn/conv';
import { depthwiseConv2d } from '../core/nn/depthwise';
import { upsampleBilinear } from '../core/nn/upsample';
import { Adam, clipToNorm, vectorNorm } from '../core/train/flat';
import { decodeDetections, disposeTargets, encodeBatch } from '../core/detect/centernet';
import type { GroundTruthBox } from '../core/types';
import { fusedRgb } from '../core/image/tensor';
import { Rng } from '../core/nn/random';

process.env.XDG_RUNTIME_DIR ??= '/tmp';
const unavailable = await useBackend('webgpu').then(() => null, (e: Error) => e.message);
if (unavailable && process.env.REQUIRE_WEBGPU) throw new Error(`REQUIRE_WEBGPU is set but WebGPU is unavailable: ${unavailable}`);
if (unavailable) console.warn(`webgpu-dawn.test: skipped, ${unavailable}`);

describe.skipIf(unavailable !== null)('S on WebGPU (Dawn) against WASM', () => {
  it('gives the same loss, input gradient and clipped parameter gradients, with no WebGPU error', async () => {
    const gpu = await segdetGradients('webgpu');
    expect(webgpuAdapter).toBeTruthy();
    const ref = await segdetGradients('wasm');
    expect(webgpuErrors).toEqual([]);
    expect(Object.keys(gpu.grads).length).toBeGreaterThan(150);
    const d = compareGradients(ref, gpu);
    expect(d.missing).toEqual([]);
    expect(d.loss).toBeLessThan(1e-4);
    expect(d.dx).toBeLessThan(1e-4);
    expect(d.worst).toBeLessThan(1e-3);
  });
});

describe.skipIf(unavailable !== null)('S\'s training input and losses at a GPU batch size on WebGPU (Dawn) against WASM', () => {
  it('agree at 12×384×384, past the 65,535 workgroups a dispatch dimension allows', async () => {
    // At this size an [N,2]×[2,3] matmul (fused RGB) and a 2-D transpose (the Dice loss's sums
    // over pixels) once exceeded the limit, and an int32 transpose did not build.
    const [b, h, w] = [12, 384, 384], n = b * h * w;
    const rng = new Rng(3);
    const logits = rng.uniformArray(n * 9, -4, 4);
    const labels = Int32Array.from({ length: n }, () => Math.floor(rng.uniform() * 10)); // 9: ignored
    const y = rng.uniformArray(n), chroma = rng.uniformArray(n * 2, 0.3, 0.7);
    const run = async (backend: 'wasm' | 'webgpu') => {
      await useBackend(backend);
      const z = tf.tensor4d(logits, [b, h, w, 9]), lab = tf.tensor3d(labels, [b, h, w], 'int32');
      const out = {} as Record<'ce' | 'dice', { loss: number; grad: Float32Array }>;
      const losses = { ce: (x: tf.Tensor) => segmentationLoss(x as tf.Tensor4D, lab, msrsClassWeights()), dice: (x: tf.Tensor) => segmentationDiceLoss(x as tf.Tensor4D, lab) };
      for (const [name, f] of Object.entries(losses) as [keyof typeof losses, (x: tf.Tensor) => tf.Scalar][]) {
        const { value, grad } = tf.valueAndGrad(f)(z);
        out[name] = { loss: (await value.data())[0], grad: (await grad.data()) as Float32Array };
        tf.dispose([value, grad]);
      }
      const [yt, ct] = [tf.tensor4d(y, [b, h, w, 1]), tf.tensor4d(chroma, [b, h, w, 2])];
      const rgb = fusedRgb(yt, ct);
      const rgbData = (await rgb.data()) as Float32Array;
      tf.dispose([z, lab, yt, ct, rgb]);
      return { ...out, rgb: rgbData };
    };
    const gpu = await run('webgpu');
    expect(webgpuErrors).toEqual([]);
    // The losses against float64 sums: WASM's float32 sums over 1.77 M pixels are 1.6e-3 off here.
    const exact = segmentationLossesF64(logits, labels, 9, msrsClassWeights());
    expect(Math.abs(gpu.ce.loss - exact.ce) / exact.ce).toBeLessThan(1e-4);
    expect(Math.abs(gpu.dice.loss - exact.dice) / exact.dice).toBeLessThan(1e-4);
    // The gradients against WASM's, whose every element carries that error in the normaliser.
    const ref = await run('wasm');
    for (const k of ['ce', 'dice'] as const) expect(relativeL2(ref[k].grad, gpu[k].grad)).toBeLessThan(1e-2);
    expect(relativeL2(ref.rgb, gpu.rgb)).toBeLessThan(1e-6);
  });
});

/** Class-weighted cross-entropy and soft Dice (as `task-losses.ts`) in float64; labels ≥ c are ignored. */
function segmentationLossesF64(logits: Float32Array, labels: Int32Array, c: number, weights: readonly number[]) {
  let num = 0, den = 0;
  const inter = new Float64Array(c), psum = new Float64Array(c), count = new Float64Array(c), p = new Float64Array(c);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l >= c) continue;
    let m = -Infinity, z = 0;
    for (let k = 0; k < c; k++) m = Math.max(m, logits[i * c + k]);
    for (let k = 0; k < c; k++) z += (p[k] = Math.exp(logits[i * c + k] - m));
    num -= weights[l] * Math.log(p[l] / z);
    den += weights[l];
    for (let k = 0; k < c; k++) psum[k] += p[k] / z;
    inter[l] += p[l] / z;
    count[l]++;
  }
  let dice = 0, present = 0;
  for (let k = 0; k < c; k++) if (count[k] > 0) { dice += 1 - (2 * inter[k]) / (psum[k] + count[k] + 1e-6); present++; }
  return { ce: num / den, dice: dice / Math.max(present, 1) };
}

/** One step of strategy `name` on `backend` from seeded weights: its loss and F's update. */
async function strategyStep(backend: 'wasm' | 'webgpu', name: StrategyName) {
  await useBackend(backend);
  const models = Object.fromEntries(MODEL_NAMES.map((m, i) => [m, MODELS[m].init(i + 1)])) as Record<ModelName, Params>;
  const flat = async (p: Params) => (await Promise.all(Object.keys(p).sort().map((k) => p[k].data()))).flatMap((d) => Array.from(d));
  const before = await flat(models.fusion);
  const s = createStrategy(name, models);
  const log = await s.step({ train: tinyCropBatch(1), heldOut: tinyCropBatch(2) });
  const after = await flat(models.fusion);
  s.dispose();
  for (const m of MODEL_NAMES) disposeParams(models[m]);
  return { log, update: Float32Array.from(after, (v, i) => v - before[i]) };
}

const cosine = (a: Float32Array, b: Float32Array) => {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; aa += a[i] ** 2; bb += b[i] ** 2; }
  return ab / Math.sqrt(aa * bb);
};

describe.skipIf(unavailable !== null)('fine-tuning strategies on WebGPU (Dawn) against WASM', () => {
  it('gives the same IR saliency for a batch (a rank-2 denseBincount once counted only 256 values a row)', async () => {
    const saliency = async (backend: 'wasm' | 'webgpu') => {
      await useBackend(backend);
      const ir = tf.tensor4d(new Rng(2).uniformArray(2 * 32 * 32), [2, 32, 32, 1]);
      const s = irSaliency(ir);
      const out = (await s.data()) as Float32Array;
      tf.dispose([ir, s]);
      return out;
    };
    const gpu = await saliency('webgpu');
    expect(relativeL2(await saliency('wasm'), gpu)).toBeLessThan(1e-5);
  });

  for (const name of STRATEGY_NAMES) {
    it(`${name}: one step gives the same loss and moves F the same way, with no WebGPU error`, async () => {
      const gpu = await strategyStep('webgpu', name);
      const ref = await strategyStep('wasm', name);
      expect(webgpuErrors).toEqual([]);
      expect(gpu.log.skipped).toBe(false);
      expect(Math.abs(gpu.log.total - ref.log.total) / Math.abs(ref.log.total)).toBeLessThan(1e-5);
      // Adam's first step is nearly sign(g) per weight, so weights whose gradient is ~0 may step
      // either way: compare the update's direction, which a wrong gradient would turn.
      expect(cosine(gpu.update, ref.update)).toBeGreaterThan(0.95);
    });
  }
});


describe.skipIf(unavailable !== null)('the pipeline on a 2048×1536 pair on WebGPU (Dawn)', () => {
  it('is reduced to what the device allows, and then runs with no WebGPU error and agrees with WASM', async () => {
    // At 2048×1536 F's full-resolution convs need 98,304 workgroups in one dimension (tfjs
    // throws past 65,535) and S's largest activation 201 MB (past the 128 MiB binding llvmpipe
    // and most devices allow).
    const pair = syntheticPair(2048, 1536, 7);
    const run = async (backend: 'wasm' | 'webgpu', maxPixels?: number): Promise<PipelineResult> => {
      await useBackend(backend);
      const models = { fusion: await loadModelFrom('models', 'fusion'), segdet: await loadModelFrom('models', 'segdet') };
      try {
        return await createPipeline(models).run(pair.ir, pair.vi, { maxPixels });
      } finally {
        disposeParams(models.fusion);
        disposeParams(models.segdet);
      }
    };
    await useBackend('webgpu');
    const maxPixels = backendMaxPixels();
    expect(maxPixels).toBeGreaterThan(1e6);
    const gpu = await run('webgpu'); // the pipeline's default budget on WebGPU
    expect(webgpuErrors).toEqual([]);
    expect(gpu.notices.map((n) => n.code)).toEqual(['downscaled']);
    expect(gpu.width * gpu.height).toBeLessThanOrEqual(maxPixels!);
    const ref = await run('wasm', maxPixels);
    expect([ref.width, ref.height]).toEqual([gpu.width, gpu.height]);
    let same = 0, worst = 0;
    for (let i = 0; i < ref.seg.length; i++) {
      if (ref.seg[i] === gpu.seg[i]) same++;
      worst = Math.max(worst, Math.abs(ref.fusedY[i] - gpu.fusedY[i]));
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(same / ref.seg.length).toBeGreaterThan(0.999);
    expect(gpu.detections.length).toBe(ref.detections.length);
    gpu.detections.forEach((d, i) => expect(Math.max(...d.slice(0, 4).map((v, k) => Math.abs(v - ref.detections[i][k])))).toBeLessThan(0.5));
  });
});

/** Value and input gradients of `f` at `inputs` on `backend`, as plain arrays. */
async function valueAndGrads(backend: 'cpu' | 'webgpu', f: (...xs: tf.Tensor[]) => tf.Scalar, inputs: { data: Float32Array; shape: number[] }[]) {
  await useBackend(backend);
  const xs = inputs.map((x) => tf.tensor(x.data, x.shape));
  const { value, grads } = tf.valueAndGrads(f)(xs);
  const out = { value: (await value.data())[0], grads: await Promise.all(grads.map(async (g) => (await g.data()) as Float32Array)) };
  tf.dispose([value, ...grads, ...xs]);
  return out;
}

describe.skipIf(unavailable !== null)('our WebGPU programs and the WebGPU backprop kernels against the CPU composites', () => {
  const rng = new Rng(21);
  const input = (shape: number[], scale = 1) => ({ data: rng.normalArray(shape.reduce((a, b) => a * b, 1), 0, scale), shape });

  const layerCases = [
    { k: 1, stride: 1, act: 'relu' }, { k: 3, stride: 1, act: 'leakyrelu' }, { k: 3, stride: 2, act: 'relu' },
    { k: 5, stride: 2, act: 'linear' }, { k: 3, stride: 1, act: 'sigmoid' },
  ] as const;
  for (const c of layerCases) {
    it(`conv ${c.k}×${c.k} stride ${c.stride} ${c.act}: the same output gradients for x, W and b`, async () => {
      const args = [input([2, 9, 10, 3]), input([c.k, c.k, 3, 4], 0.5), input([4], 0.3)];
      const r = input([2, Math.ceil(9 / c.stride), Math.ceil(10 / c.stride), 4]);
      const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(conv2d(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D, { stride: c.stride, activation: c.act, alpha: 0.1 }), tf.tensor(r.data, r.shape))) as tf.Scalar;
      const gpu = await valueAndGrads('webgpu', f as (...xs: tf.Tensor[]) => tf.Scalar, args);
      const ref = await valueAndGrads('cpu', f as (...xs: tf.Tensor[]) => tf.Scalar, args);
      expect(webgpuErrors).toEqual([]);
      expect(Math.abs(gpu.value - ref.value) / Math.abs(ref.value)).toBeLessThan(1e-4);
      gpu.grads.forEach((g, i) => expect(relativeL2(ref.grads[i], g), `gradient ${i}`).toBeLessThan(1e-4));
    });
  }

  for (const stride of [1, 2] as const) {
    it(`depthwise 3×3 stride ${stride} relu: the same gradients for x, W and b`, async () => {
      const args = [input([2, 8, 9, 5]), input([3, 3, 5, 1], 0.5), input([5], 0.3)];
      const r = input([2, Math.ceil(8 / stride), Math.ceil(9 / stride), 5]);
      const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D, { stride, activation: 'relu' }), tf.tensor(r.data, r.shape))) as tf.Scalar;
      const gpu = await valueAndGrads('webgpu', f as (...xs: tf.Tensor[]) => tf.Scalar, args);
      const ref = await valueAndGrads('cpu', f as (...xs: tf.Tensor[]) => tf.Scalar, args);
      expect(webgpuErrors).toEqual([]);
      gpu.grads.forEach((g, i) => expect(relativeL2(ref.grads[i], g), `gradient ${i}`).toBeLessThan(1e-4));
    });
  }

  for (const half of [true, false]) {
    it(`bilinear ×2 upsampling (half-pixel ${half}): the same gradient`, async () => {
      const args = [input([2, 5, 6, 3])];
      const r = input([2, 10, 12, 3]);
      const f = (x: tf.Tensor) => tf.sum(tf.mul(upsampleBilinear(x as tf.Tensor4D, 2, half), tf.tensor(r.data, r.shape))) as tf.Scalar;
      const gpu = await valueAndGrads('webgpu', f as (...xs: tf.Tensor[]) => tf.Scalar, args);
      const ref = await valueAndGrads('cpu', f as (...xs: tf.Tensor[]) => tf.Scalar, args);
      expect(relativeL2(ref.grads[0], gpu.grads[0])).toBeLessThan(1e-5);
    });
  }

  it("F's output and every parameter gradient (its output stage is one program of ours there)", async () => {
    const xData = new Rng(12).uniformArray(2 * 16 * 20 * 2), rData = new Rng(13).normalArray(2 * 16 * 20);
    const run = async (backend: 'cpu' | 'webgpu') => {
      await useBackend(backend);
      const params = MODELS.fusion.init(5);
      const x = tf.tensor4d(xData, [2, 16, 20, 2]), r = tf.tensor4d(rData, [2, 16, 20, 1]);
      const names = Object.keys(params);
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(MODELS.fusion.apply(params, x), r)) as tf.Scalar, names.map((n) => params[n]));
      const out = { value: (await value.data())[0], grads: await Promise.all(names.map(async (n) => (await grads[params[n].name].data()) as Float32Array)) };
      tf.dispose([x, r, value, ...Object.values(grads)]);
      disposeParams(params);
      return out;
    };
    const gpu = await run('webgpu');
    const ref = await run('cpu');
    expect(webgpuErrors).toEqual([]);
    expect(Math.abs(gpu.value - ref.value) / Math.abs(ref.value)).toBeLessThan(1e-5);
    gpu.grads.forEach((g, i) => expect(relativeL2(ref.grads[i], g), `gradient ${i}`).toBeLessThan(1e-4));
  });

  it('fused RGB and its gradient in Y; detection peaks and boxes decoded the same', async () => {
    const y = { data: new Rng(14).uniformArray(2 * 8 * 6), shape: [2, 8, 6, 1] };
    const chroma = new Rng(15).uniformArray(2 * 8 * 6 * 2, 0.1, 0.9); // some pixels clip
    const r = new Rng(16).normalArray(2 * 8 * 6 * 3);
    const f = (yy: tf.Tensor) => tf.sum(tf.mul(fusedRgb(yy as tf.Tensor4D, tf.tensor4d(chroma, [2, 8, 6, 2])), tf.tensor4d(r, [2, 8, 6, 3]))) as tf.Scalar;
    const gpu = await valueAndGrads('webgpu', f as (...xs: tf.Tensor[]) => tf.Scalar, [y]);
    const ref = await valueAndGrads('cpu', f as (...xs: tf.Tensor[]) => tf.Scalar, [y]);
    expect(Math.abs(gpu.value - ref.value) / Math.abs(ref.value)).toBeLessThan(1e-5);
    expect(relativeL2(ref.grads[0], gpu.grads[0])).toBeLessThan(1e-5);
    // A head with ties (a plateau of equal logits) and peaks at the border.
    const head = new Rng(17).normalArray(12 * 10 * 7, 0, 2);
    for (let i = 0; i < 6; i++) head[(40 + i) * 7] = 3;
    const decode = async (backend: 'cpu' | 'webgpu') => {
      await useBackend(backend);
      const det = tf.tensor4d(head, [1, 12, 10, 7]);
      const d = await decodeDetections(det, { scoreThreshold: 0.05 });
      det.dispose();
      return d;
    };
    const gpuDets = await decode('webgpu');
    const refDets = await decode('cpu');
    expect(webgpuErrors).toEqual([]);
    expect(gpuDets.length).toBeGreaterThan(1);
    expect(gpuDets.length).toBe(refDets.length);
    gpuDets.forEach((d, i) => d.forEach((v, k) => expect(v).toBeCloseTo(refDets[i][k], 4)));
  });

  it("S's inference (layers and their epilogues as one program each) agrees with CPU", async () => {
    const rgb = new Rng(18).uniformArray(2 * 64 * 96 * 3);
    const run = async (backend: 'cpu' | 'webgpu') => {
      await useBackend(backend);
      const params = await loadModelFrom('models', 'segdet');
      const x = tf.tensor4d(rgb, [2, 64, 96, 3]);
      const out = MODELS.segdet.apply(params, x);
      const r = { seg: (await out.seg.data()) as Float32Array, det: (await out.det.data()) as Float32Array };
      tf.dispose([x, out.seg, out.det]);
      disposeParams(params);
      return r;
    };
    const gpu = await run('webgpu');
    const ref = await run('cpu');
    expect(webgpuErrors).toEqual([]);
    expect(relativeL2(ref.seg, gpu.seg)).toBeLessThan(1e-5);
    expect(relativeL2(ref.det, gpu.det)).toBeLessThan(1e-5);
  });

  it('Adam over one vector (with per-parameter learning-rate scales) and clipping: the same parameters after three steps', async () => {
    const run = async (backend: 'cpu' | 'webgpu') => {
      await useBackend(backend);
      const rng = new Rng(19);
      const params = { a: tf.variable(tf.tensor2d(rng.normalArray(6), [2, 3])), b: tf.variable(tf.tensor1d(rng.normalArray(4))) };
      const opt = new Adam(params, { lrScale: { b: 0.1 } });
      for (let step = 0; step < 3; step++) {
        const named = { a: tf.tensor2d(rng.normalArray(6, 0, 3), [2, 3]), b: tf.tensor1d(rng.normalArray(4, 0, 3)) };
        const flat = opt.layout.flatten(named);
        const norm = vectorNorm(flat);
        const clipped = clipToNorm(flat, norm, 2);
        opt.applyFlat(clipped, 0.01);
        tf.dispose([flat, norm, clipped, ...Object.values(named)]);
      }
      const out = [...(await params.a.data()), ...(await params.b.data())];
      opt.dispose();
      tf.dispose(Object.values(params));
      return Float32Array.from(out);
    };
    const gpu = await run('webgpu');
    const ref = await run('cpu');
    expect(webgpuErrors).toEqual([]);
    expect(relativeL2(ref, gpu)).toBeLessThan(1e-6);
  });

  it('SSIM loss: the same value and gradients for both images', async () => {
    const args = [{ data: new Rng(5).uniformArray(2 * 24 * 20), shape: [2, 24, 20, 1] }, { data: new Rng(6).uniformArray(2 * 24 * 20), shape: [2, 24, 20, 1] }];
    const f = (a: tf.Tensor, b: tf.Tensor) => ssimLoss(a as tf.Tensor4D, b as tf.Tensor4D);
    const gpu = await valueAndGrads('webgpu', f as (...xs: tf.Tensor[]) => tf.Scalar, args);
    const ref = await valueAndGrads('cpu', f as (...xs: tf.Tensor[]) => tf.Scalar, args);
    expect(webgpuErrors).toEqual([]);
    expect(Math.abs(gpu.value - ref.value) / ref.value).toBeLessThan(1e-5);
    gpu.grads.forEach((g, i) => expect(relativeL2(ref.grads[i], g), `gradient ${i}`).toBeLessThan(1e-4));
  });

  it("TDFusion's weighted intensity and sobel-max gradient losses: the same values and gradients", async () => {
    const img = (seed: number) => ({ data: new Rng(seed).uniformArray(2 * 16 * 12), shape: [2, 16, 12, 1] });
    const [ir, vi] = [img(7), img(8)];
    const tIr = () => tf.tensor4d(ir.data, [2, 16, 12, 1]);
    const tVi = () => tf.tensor4d(vi.data, [2, 16, 12, 1]);
    const intensity = (f: tf.Tensor, w: tf.Tensor) =>
      intensityLoss(f as tf.Tensor4D, tIr(), tVi(), 'weighted', { weights: tf.softmax(w) as tf.Tensor4D });
    const gradient = (f: tf.Tensor) => gradientLoss(f as tf.Tensor4D, tIr(), tVi(), 'sobel-max');
    for (const [f, args] of [[intensity, [img(9), input([2, 16, 12, 2])]], [gradient, [img(9)]]] as const) {
      const gpu = await valueAndGrads('webgpu', f as (...xs: tf.Tensor[]) => tf.Scalar, [...args]);
      const ref = await valueAndGrads('cpu', f as (...xs: tf.Tensor[]) => tf.Scalar, [...args]);
      expect(webgpuErrors).toEqual([]);
      expect(Math.abs(gpu.value - ref.value) / ref.value).toBeLessThan(1e-5);
      gpu.grads.forEach((g, i) => expect(relativeL2(ref.grads[i], g), `gradient ${i}`).toBeLessThan(1e-4));
    }
  });

  it('class-weighted cross-entropy (with ignored pixels): the same loss and logit gradient', async () => {
    const [b, h, w] = [2, 8, 8];
    const labels = Int32Array.from({ length: b * h * w }, () => Math.floor(rng.uniform() * 10)); // 9: ignored
    const f = (z: tf.Tensor) => segmentationLoss(z as tf.Tensor4D, tf.tensor3d(labels, [b, h, w], 'int32'), msrsClassWeights());
    const args = [input([b, h, w, 9], 2)];
    const gpu = await valueAndGrads('webgpu', f as (...xs: tf.Tensor[]) => tf.Scalar, args);
    const ref = await valueAndGrads('cpu', f as (...xs: tf.Tensor[]) => tf.Scalar, args);
    expect(webgpuErrors).toEqual([]);
    expect(Math.abs(gpu.value - ref.value) / ref.value).toBeLessThan(1e-5);
    expect(relativeL2(ref.grads[0], gpu.grads[0])).toBeLessThan(1e-4);
  });

  it('CenterNet heat-map and GIoU box losses: the same terms and head gradient', async () => {
    const [b, h, w] = [2, 16, 16];
    const boxes: GroundTruthBox[][] = [[[4, 6, 30, 50, 0], [20, 8, 44, 40, 2]], [[30, 20, 60, 62, 1]]];
    const head = input([b, h, w, 7]);
    const run = async (backend: 'cpu' | 'webgpu') => {
      await useBackend(backend);
      // Boxes of 4..60 px on a 64-px image: the head is at ¼ of it.
      const targets = encodeBatch(boxes, 4 * h, 4 * w);
      const g = await valueAndGrads(backend, (z: tf.Tensor) => detectionLossTerms(z as tf.Tensor4D, targets).total, [head]);
      const z = tf.tensor4d(head.data, [b, h, w, 7]);
      const t = detectionLossTerms(z, targets);
      const terms = { heat: (await t.heat.data())[0], box: (await t.box.data())[0] };
      tf.dispose([z, t.total, t.heat, t.box]);
      disposeTargets(targets);
      return { ...g, terms };
    };
    const gpu = await run('webgpu');
    const ref = await run('cpu');
    expect(webgpuErrors).toEqual([]);
    expect(Math.abs(gpu.terms.heat - ref.terms.heat) / ref.terms.heat).toBeLessThan(1e-5);
    expect(Math.abs(gpu.terms.box - ref.terms.box) / ref.terms.box).toBeLessThan(1e-5);
    expect(ref.terms.box).toBeGreaterThan(0);
    expect(relativeL2(ref.grads[0], gpu.grads[0])).toBeLessThan(1e-4);
  });
});
