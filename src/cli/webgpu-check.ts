/**
 * `npm run webgpu-check`: S's loss, input gradient and clipped parameter gradients on tfjs's
 * WebGPU backend (Dawn, the `webgpu` package: needs a Vulkan, Metal or D3D12 driver) against
 * WASM, on one fixed batch with the shipped weights. Prints the adapter, the differences and any
 * WebGPU errors; exits 1 when they disagree. A GPU machine's first check, before timing or
 * training on it (src/bench/gpu/).
 */
import * as tf from '@tensorflow/tfjs-core';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { useBackend, webgpuAdapter, webgpuErrors } from './node-backend';
import { loadModelFolderInto } from './weights-fs';
import { segdet } from '../core/models/segdet';
import { segdetObjective, DEFAULT_SEGDET_WEIGHTS } from '../core/train/objectives';
import { encodeBatch, disposeTargets } from '../core/detect/centernet';
import { FlatLayout, clipToNorm, vectorNorm } from '../core/train/flat';
import { Rng } from '../core/nn/random';
import type { GroundTruthBox } from '../core/types';

/** One backend's numbers for the fixed batch. */
export interface SegdetGradients {
  loss: number;
  /** d(sum of S's segmentation logits)/d(input). */
  dx: Float32Array;
  /** Gradients of the training loss by parameter name, clipped to global norm 1 (as a step does). */
  grads: Record<string, Float32Array>;
  ms: number;
}

/** Runs S forward and backward on `backend` (which it switches to) for a fixed 2×64×96 batch. */
export async function segdetGradients(backend: 'wasm' | 'webgpu', modelsDir = 'models'): Promise<SegdetGradients> {
  await useBackend(backend);
  const params = segdet.init(0);
  await loadModelFolderInto(path.join(modelsDir, 'segdet'), params);
  const rng = new Rng(3);
  const [b, h, w] = [2, 64, 96];
  const x = tf.tensor4d(rng.uniformArray(b * h * w * 3), [b, h, w, 3]);
  const labels = tf.tensor3d(Int32Array.from({ length: b * h * w }, (_, i) => (i >> 7) % 9), [b, h, w], 'int32');
  const boxes: GroundTruthBox[][] = [[[10, 8, 40, 50, 0]], [[30, 20, 90, 60, 2]]];
  const targets = encodeBatch(boxes, h, w);
  const t0 = performance.now();
  const names = Object.keys(params).sort();
  const { value, grads } = tf.variableGrads(
    () => segdetObjective(segdet.apply(params, x), labels, targets, DEFAULT_SEGDET_WEIGHTS).total,
    names.map((n) => params[n] as tf.Variable),
  );
  const byName: Record<string, tf.Tensor> = Object.fromEntries(names.map((n) => [n, grads[(params[n] as tf.Variable).name]]).filter(([, g]) => g));
  const layout = new FlatLayout(byName);
  const clipped = tf.tidy(() => {
    const flat = layout.flatten(byName);
    return layout.unflatten(clipToNorm(flat, vectorNorm(flat), 1));
  });
  const dx = tf.grad((xi: tf.Tensor) => tf.sum(segdet.apply(params, xi as tf.Tensor4D).seg))(x);
  const out: SegdetGradients = {
    loss: (await value.data())[0],
    grads: Object.fromEntries(await Promise.all(Object.entries(clipped).map(async ([n, g]) => [n, (await g.data()) as Float32Array]))),
    dx: (await dx.data()) as Float32Array,
    ms: performance.now() - t0,
  };
  tf.dispose([x, labels, value, dx, ...Object.values(grads), ...Object.values(clipped), ...Object.values(params)]);
  disposeTargets(targets);
  return out;
}

/** ‖a − b‖ / ‖a‖. */
export function relativeL2(a: Float32Array, b: Float32Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += a[i] ** 2; }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

/** How far `gpu` is from `ref`: loss, input gradient, and the worst parameter gradient. */
export function compareGradients(ref: SegdetGradients, gpu: SegdetGradients): { loss: number; dx: number; worst: number; worstName: string; missing: string[] } {
  let worst = 0, worstName = '';
  const missing = Object.keys(ref.grads).filter((n) => !gpu.grads[n]);
  for (const n of Object.keys(ref.grads)) {
    if (!gpu.grads[n]) continue;
    const d = relativeL2(ref.grads[n], gpu.grads[n]);
    if (d > worst || Number.isNaN(d)) { worst = d; worstName = n; }
  }
  return { loss: Math.abs(gpu.loss - ref.loss) / Math.abs(ref.loss), dx: relativeL2(ref.dx, gpu.dx), worst, worstName, missing };
}

const USAGE = `usage: npm run webgpu-check
  Runs S forward and backward on tfjs's WebGPU backend (Dawn) and on WASM for a fixed batch and
  compares the loss, the input gradient and every parameter gradient; exits 1 if they differ.
  Needs a Vulkan driver (on a machine without a GPU, Mesa >= 24's llvmpipe).`;

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  if (argv.length > 0) {
    console.error(`webgpu-check: no options, got ${argv.join(' ')}\n${USAGE}`);
    return 2;
  }
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  try {
    const gpu = await segdetGradients('webgpu');
    const adapter = webgpuAdapter;
    const ref = await segdetGradients('wasm');
    const d = compareGradients(ref, gpu);
    console.log(`WebGPU: ${adapter}; ${Object.keys(gpu.grads).length} parameter gradients; ${gpu.ms.toFixed(0)} ms (WASM ${ref.ms.toFixed(0)} ms, first runs)`);
    console.log(`relative difference to WASM: loss ${d.loss.toExponential(2)}, input gradient ${d.dx.toExponential(2)}, worst parameter gradient ${d.worst.toExponential(2)} (${d.worstName})`);
    const ok = d.loss < 1e-4 && d.dx < 1e-4 && d.worst < 1e-3 && d.missing.length === 0 && webgpuErrors.length === 0;
    console.log(ok ? 'OK' : `DIFFERENT${webgpuErrors.length ? `: ${webgpuErrors.length} WebGPU errors` : ''}${d.missing.length ? `; missing ${d.missing.join(', ')}` : ''}`);
    return ok ? 0 : 1;
  } catch (e) {
    console.error(`webgpu-check: ${(e as Error).message}`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
