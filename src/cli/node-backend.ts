/**
 * Registers the tfjs backends available in Node and picks one: WASM with SIMD, CPU, and WebGPU
 * through Dawn (the `webgpu` package), which is how the CLI trains and benches on a real GPU.
 * Entry points and tests import this; the core never chooses a backend.
 */
import * as tf from '@tensorflow/tfjs-core';
// The umbrella package registers all gradients and chained ops on tfjs-core (tfjs-core alone does not).
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { NodeBackend } from './args';
import { gpuAdapterName, summariseGpuAdapter } from '../core/gpu-adapter';

// The WASM files are found next to the package. A bundled CLI (the GPU machine's) ships without
// them and runs the other backends; it fails only if it asks for WASM.
let wasmFilesMissing: string | null = null;
try {
  const require = createRequire(import.meta.url);
  setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + '/dist/');
} catch (e) {
  wasmFilesMissing = (e as Error).message;
}

// tfjs's CPU backend greets Node with an 'install tfjs-node' banner on its first tensor: the CLIs
// and tests choose their backends on purpose, so it is switched off (only that message).
const cpuBackend = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
if (cpuBackend) cpuBackend.firstUse = false;

/** What the WebGPU adapter said about itself, once `useBackend('webgpu')` has run. */
export let webgpuAdapter: string | null = null;
/** Whether that adapter is a CPU renderer (llvmpipe, SwiftShader): right answers, slow. */
export let webgpuSoftware = false;
/**
 * Uncaptured WebGPU errors since the backend started. tfjs runs on past a kernel that failed
 * to build, with wrong numbers; the first few are printed, and tests check that none came.
 */
export const webgpuErrors: string[] = [];

/**
 * Dawn as `navigator.gpu`, then tfjs's WebGPU backend on it. Loaded on demand: the native
 * module is large, and only a GPU run needs it.
 */
async function registerDawnWebgpu(): Promise<void> {
  if (tf.findBackend('webgpu')) return;
  let dawn: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    dawn = await import('webgpu') as unknown as typeof dawn;
  } catch (e) {
    throw new Error(`the 'webgpu' package (Dawn for Node) did not load: ${(e as Error).message}`);
  }
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('Dawn found no WebGPU adapter (is a Vulkan driver installed? XDG_RUNTIME_DIR set?)');
  const summary = summariseGpuAdapter(adapter.info);
  webgpuAdapter = gpuAdapterName(summary);
  webgpuSoftware = summary.isSoftware;
  Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: `Node ${process.version}` }, configurable: true });
  await import('@tensorflow/tfjs-backend-webgpu');
}

function watchWebgpuErrors(device: GPUDevice): void {
  device.onuncapturederror = (ev) => {
    const first = ev.error.message.split('\n')[0].trim();
    webgpuErrors.push(first);
    if (webgpuErrors.length <= 3) console.error(`webgpu error: ${first}${webgpuErrors.length === 3 ? ' (further ones not printed)' : ''}`);
  };
}

/** Switches tfjs to `name` and waits until it is ready. */
export async function useBackend(name: NodeBackend = 'wasm'): Promise<void> {
  if (name === 'wasm' && wasmFilesMissing) throw new Error(`tfjs's WASM files were not found: ${wasmFilesMissing}`);
  if (name === 'webgpu') await registerDawnWebgpu();
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs backend '${name}' failed to initialise`);
  await tf.ready();
  if (name === 'webgpu') watchWebgpuErrors((tf.backend() as unknown as { device: GPUDevice }).device);
}
