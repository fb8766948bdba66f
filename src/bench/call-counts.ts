/**
 * What one call costs in kernels, and on WebGPU in GPU programs dispatched and GPU→CPU reads.
 *
 * Why count: on a GPU, tfjs spends a fixed time per kernel (encoding, binding, uniforms), so a
 * step of thousands of small kernels waits on the CPU whatever the GPU. Kernels are what
 * `tf.profile` records (the same on every backend); dispatches are the WebGPU backend's
 * `runWebGPUProgram` calls (a reshape, an identity or a same-type cast dispatches nothing; a
 * kernel built from several programs dispatches each), and reads its `getBufferData` calls
 * (each a copy to a staging buffer and a map: a full stall of the GPU queue).
 */
import * as tf from '@tensorflow/tfjs-core';

/** Counts of one call. */
export interface CallCounts {
  /** Kernels run, as `tf.profile` records them. */
  kernels: number;
  /** The same, by kernel name, largest first. */
  byKernel: Record<string, number>;
  /** WebGPU only: programs dispatched. */
  dispatches?: number;
  /** WebGPU only: the same, by program (its class name), largest first. */
  byProgram?: Record<string, number>;
  /** WebGPU only: GPU→CPU reads. */
  reads?: number;
}

function sorted(m: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...m.entries()].sort((a, b) => b[1] - a[1]));
}

interface WebgpuHooks {
  runWebGPUProgram: (program: object, ...rest: unknown[]) => unknown;
  getBufferData: (...args: unknown[]) => Promise<unknown>;
}

/**
 * Runs `fn` with the WebGPU backend's dispatches and reads counted; null (and `fn` not run) when
 * the current backend is not WebGPU. The hooks are removed however `fn` ends.
 */
export async function countDispatches(fn: () => Promise<unknown>): Promise<Pick<CallCounts, 'dispatches' | 'byProgram' | 'reads'> | null> {
  const backend = tf.backend() as unknown as Partial<WebgpuHooks>;
  if (typeof backend.runWebGPUProgram !== 'function' || typeof backend.getBufferData !== 'function') return null;
  const b = backend as WebgpuHooks;
  const run = b.runWebGPUProgram;
  const read = b.getBufferData;
  const programs = new Map<string, number>();
  let dispatches = 0;
  let reads = 0;
  b.runWebGPUProgram = function (this: unknown, program: object, ...rest: unknown[]) {
    dispatches += 1;
    // tfjs's programs are classes; ours (`webgpu-programs.ts`) plain objects named by their key.
    const key = (program as { shaderKey?: string }).shaderKey ?? '';
    const name = program.constructor.name !== 'Object' ? program.constructor.name : key.replace(/_u\d+$/, '');
    programs.set(name, (programs.get(name) ?? 0) + 1);
    return run.call(this, program, ...rest);
  };
  b.getBufferData = function (this: unknown, ...args: unknown[]) {
    reads += 1;
    return read.apply(this, args);
  };
  try {
    await fn();
  } finally {
    b.runWebGPUProgram = run;
    b.getBufferData = read;
  }
  return { dispatches, byProgram: sorted(programs), reads };
}

/** The kernels of a `tf.profile`, in all and by name. */
export function kernelCounts(kernels: readonly { name: string }[]): Pick<CallCounts, 'kernels' | 'byKernel'> {
  const names = new Map<string, number>();
  for (const k of kernels) names.set(k.name, (names.get(k.name) ?? 0) + 1);
  return { kernels: kernels.length, byKernel: sorted(names) };
}

/** Kernels of one run of `fn`, from `tf.profile`. */
export async function countKernels(fn: () => Promise<unknown>): Promise<Pick<CallCounts, 'kernels' | 'byKernel'>> {
  const p = await tf.profile(async () => { await fn(); });
  return kernelCounts(p.kernels);
}

/**
 * Kernels of one run of `fn` and, on WebGPU, the dispatches and reads of another: a profiled
 * run times each kernel, which on WebGPU adds work of its own, so the two are counted apart.
 * Run `fn` once before (compilation, caches) if the counts should be those of a warm call.
 */
export async function countCall(fn: () => Promise<unknown>): Promise<CallCounts> {
  const k = await countKernels(fn);
  const d = await countDispatches(fn);
  return { ...k, ...(d ?? {}) };
}
