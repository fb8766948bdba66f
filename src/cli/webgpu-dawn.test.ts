/**
 * S on tfjs's WebGPU backend (Dawn, the `webgpu` package) against WASM: the outputs and every
 * gradient of a training loss. This is the path of in-browser fine-tuning on WebGPU and of GPU
 * training from the CLI; two of its kernels once failed there silently (an addN of 177 inputs and
 * a rank-6 pad), leaving garbage gradients. Needs a Vulkan driver: CI installs Mesa's CPU one
 * and sets REQUIRE_WEBGPU=1, so there it cannot be skipped.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, webgpuAdapter, webgpuErrors } from './node-backend';
import { loadModelFolderInto } from './weights-fs';
import { segdet } from '../core/models/segdet';
import { segdetObjective, DEFAULT_SEGDET_WEIGHTS } from '../core/train/objectives';
import { encodeBatch, disposeTargets } from '../core/detect/centernet';
import { clipByGlobalNorm } from '../core/train/loop';
import { Rng } from '../core/nn/random';
import type { GroundTruthBox } from '../core/types';

process.env.XDG_RUNTIME_DIR ??= '/tmp';
const unavailable = await useBackend('webgpu').then(() => null, (e: Error) => e.message);
if (unavailable && process.env.REQUIRE_WEBGPU) throw new Error(`REQUIRE_WEBGPU is set but WebGPU is unavailable: ${unavailable}`);
if (unavailable) console.warn(`webgpu-dawn.test: skipped, ${unavailable}`);

/** Loss, S's outputs and all gradients (parameters and input) for one fixed batch, on `backend`. */
async function run(backend: 'wasm' | 'webgpu') {
  await useBackend(backend);
  const params = segdet.init(0);
  await loadModelFolderInto('models/segdet', params);
  const rng = new Rng(3);
  const [b, h, w] = [2, 64, 96];
  const x = tf.tensor4d(Float32Array.from(rng.uniformArray(b * h * w * 3)), [b, h, w, 3]);
  const labels = tf.tensor3d(Int32Array.from({ length: b * h * w }, (_, i) => (i >> 7) % 9), [b, h, w], 'int32');
  const boxes: GroundTruthBox[][] = [[[10, 8, 40, 50, 0]], [[30, 20, 90, 60, 2]]];
  const targets = encodeBatch(boxes, h, w);
  const names = Object.keys(params).sort();
  const vars = names.map((n) => params[n] as tf.Variable);
  const { value, grads } = tf.variableGrads(() => segdetObjective(segdet.apply(params, x), labels, targets, DEFAULT_SEGDET_WEIGHTS).total, vars);
  const dx = tf.grad((xi: tf.Tensor) => tf.sum(segdet.apply(params, xi as tf.Tensor4D).seg))(x);
  const clipped = clipByGlobalNorm(Object.fromEntries(names.map((n) => [n, grads[(params[n] as tf.Variable).name]]).filter(([, g]) => g)), 1);
  const out = {
    loss: (await value.data())[0],
    grads: Object.fromEntries(await Promise.all(Object.entries(clipped).map(async ([n, g]) => [n, await g.data()]))) as Record<string, Float32Array>,
    dx: (await dx.data()) as Float32Array,
  };
  tf.dispose([x, labels, value, dx, ...Object.values(grads), ...Object.values(clipped), ...Object.values(params)]);
  disposeTargets(targets);
  return out;
}

const relL2 = (a: Float32Array, b: Float32Array) => {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += a[i] ** 2; }
  return Math.sqrt(num / Math.max(den, 1e-30));
};

describe.skipIf(unavailable !== null)('S on WebGPU (Dawn) against WASM', () => {
  it('gives the same loss, input gradient and clipped parameter gradients', async () => {
    const gpu = await run('webgpu');
    const adapter = webgpuAdapter;
    const cpu = await run('wasm');
    expect(adapter).toBeTruthy();
    expect(webgpuErrors).toEqual([]);
    expect(Object.keys(gpu.grads).length).toBeGreaterThan(150);
    expect(Object.keys(gpu.grads).sort()).toEqual(Object.keys(cpu.grads).sort());
    expect(Math.abs(gpu.loss - cpu.loss) / Math.abs(cpu.loss)).toBeLessThan(1e-4);
    expect(relL2(cpu.dx, gpu.dx)).toBeLessThan(1e-4);
    const worst = Math.max(...Object.keys(cpu.grads).map((n) => relL2(cpu.grads[n], gpu.grads[n])));
    expect(worst).toBeLessThan(1e-3);
  });
});
