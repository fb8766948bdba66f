/**
 * S on tfjs's WebGPU backend (Dawn, the `webgpu` package) against WASM: the loss, the input
 * gradient and every clipped parameter gradient of a training step (`npm run webgpu-check`'s
 * comparison). This is the path of in-browser fine-tuning on WebGPU and of GPU training from the
 * CLI; two of its kernels once failed there with no error, leaving wrong gradients (an addN of
 * 177 inputs and a rank-6 pad). Needs a Vulkan driver: CI installs Mesa's CPU one and sets
 * REQUIRE_WEBGPU=1, so there it cannot be skipped.
 */
import { describe, expect, it } from 'vitest';
import { useBackend, webgpuAdapter, webgpuErrors } from './node-backend';
import { compareGradients, segdetGradients } from './webgpu-check';

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
