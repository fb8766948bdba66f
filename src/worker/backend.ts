/// <reference types="@webgpu/types" />
/**
 * Backend start-up for the compute worker: WebGPU → WASM → WebGL → CPU.
 *
 * A software WebGPU adapter (`isFallbackAdapter`, or SwiftShader named in the adapter info)
 * ranks below WASM unless the user picks WebGPU explicitly: it is correct but 100–700× slower
 * than WASM here (docs/app.md, "Backends"). The chosen backend comes with a sentence saying why.
 *
 * The WebGPU backend is registered with our own factory (replacing the package's) so that we
 * know the adapter and can watch `device.lost`.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers neither gradients nor chained ops; the core relies on both
// (the CLI gets them from the umbrella package, which would also pull layers/converter here).
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths, getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.wasm?url';
import { gpuAdapterName, summariseGpuAdapter } from '../core/gpu-adapter';
import type {
  BackendAttempt, BackendChoice, BackendInfo, BackendName, GpuAdapterSummary,
} from '../protocol/messages';

/** Order tried by `auto`. */
export const BACKEND_ORDER: BackendName[] = ['webgpu', 'wasm', 'webgl', 'cpu'];

const LABEL: Record<BackendName, string> = { webgpu: 'WebGPU', wasm: 'WASM', webgl: 'WebGL', cpu: 'CPU' };

setWasmPaths({
  'tfjs-backend-wasm.wasm': new URL(wasmPlainUrl, import.meta.url).href,
  'tfjs-backend-wasm-simd.wasm': new URL(wasmSimdUrl, import.meta.url).href,
  'tfjs-backend-wasm-threaded-simd.wasm': new URL(wasmThreadedSimdUrl, import.meta.url).href,
});

/**
 * Lets tfjs's WASM backend run XNNPACK on `n` threads. tfjs-backend-wasm 4.22 caps its pool at
 * `navigator.hardwareConcurrency / 2` whatever `setThreadsCount` asks (one thread on a 2-core
 * machine), so this worker reports 2n cores to itself. Only effective before the WASM backend
 * initialises; needs a cross-origin-isolated page (else WASM runs one thread anyway).
 * @returns the thread count asked for.
 */
export function setWasmThreads(n: number): number {
  const threads = Math.max(1, Math.floor(n));
  const proto = Object.getPrototypeOf(navigator) as object;
  Object.defineProperty(proto, 'hardwareConcurrency', { get: () => 2 * threads, configurable: true });
  setThreadsCount(threads);
  return threads;
}

/**
 * The app's WASM thread count: every core but one, which the page keeps (drawing, decoding,
 * the compositor). XNNPACK's threads meet at a barrier after every op, so one thread kept
 * waiting by the page holds up all of them: on 2 cores, in the app, two threads took a 64×64
 * pair 400–1100 ms and a 480×480 one 2.4 s; one thread took 50–130 ms and 1.6–2.1 s. (The
 * bench's idle page favours two: 176 against 269 ms at 640×480.) Read once, before any override.
 */
const APP_WASM_THREADS = Math.max(1, (navigator.hardwareConcurrency || 1) - 1);

/** Called when the GPU device is lost without us asking for it. */
export type DeviceLostHandler = (message: string) => void;

interface GpuState {
  device: GPUDevice | null;
  adapter: GpuAdapterSummary | null;
  /** Set while we tear the device down ourselves, so `lost` is not reported. */
  intentional: boolean;
}
const gpu: GpuState = { device: null, adapter: null, intentional: false };
let onDeviceLost: DeviceLostHandler = () => {};

/** Installs the handler for unexpected GPU device loss. */
export function setDeviceLostHandler(h: DeviceLostHandler): void {
  onDeviceLost = h;
}

/** Called with each WebGPU error that no one caught (a pipeline that did not build, say). */
export type GpuErrorHandler = (message: string) => void;
let onGpuError: GpuErrorHandler = () => {};

/**
 * Installs the handler for uncaptured WebGPU errors. tfjs does not watch for them and runs on
 * past a kernel that failed to build, with wrong numbers, so the app must say so.
 */
export function setGpuErrorHandler(h: GpuErrorHandler): void {
  onGpuError = h;
}

/** Asks for a WebGPU adapter without creating a device. */
async function probeAdapter(): Promise<{ adapter: GPUAdapter | null; summary: GpuAdapterSummary | null; note: string }> {
  if (typeof navigator === 'undefined' || !('gpu' in navigator) || !navigator.gpu) {
    return { adapter: null, summary: null, note: 'this browser exposes no WebGPU (navigator.gpu missing)' };
  }
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return { adapter: null, summary: null, note: `requestAdapter failed: ${(e as Error).message}` };
  }
  if (!adapter) return { adapter: null, summary: null, note: 'no WebGPU adapter available' };
  const legacyFallback = (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  const summary = summariseGpuAdapter(adapter.info, legacyFallback);
  return { adapter, summary, note: gpuAdapterName(summary) };
}

/** Registers (or re-registers) tfjs's `webgpu` backend with a factory we control. */
function registerWebGpu(): void {
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', async () => {
    const { adapter, summary, note } = await probeAdapter();
    if (!adapter || !summary) throw new Error(note);
    const limits = adapter.limits;
    const requiredFeatures: GPUFeatureName[] = [];
    if (adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
    const device = await adapter.requestDevice({
      requiredFeatures,
      requiredLimits: {
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      },
    });
    gpu.device = device;
    gpu.adapter = summary;
    gpu.intentional = false;
    device.addEventListener('uncapturederror', (ev) => {
      if (gpu.device === device) onGpuError((ev as GPUUncapturedErrorEvent).error.message);
    });
    void device.lost.then((info) => {
      if (gpu.device !== device) return; // an old device we replaced
      gpu.device = null;
      if (gpu.intentional) return;
      onDeviceLost(`GPU device lost (${info.reason}): ${info.message || 'no message'}`);
    });
    return new WebGPUBackend(device, adapter.info);
  }, 3);
}

/** Drops the WebGPU backend and its device (all tensors on it are lost). */
export function teardownWebGpu(): void {
  gpu.intentional = true;
  try {
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  } catch { /* already gone */ }
  try {
    gpu.device?.destroy();
  } catch { /* already lost */ }
  gpu.device = null;
}

const wait = (ms: number) => new Promise<false>((r) => setTimeout(() => r(false), ms));

/** Whether the device still maps a fresh buffer: a lost or destroyed one rejects (or never answers). */
async function deviceAnswers(d: GPUDevice, ms: number): Promise<boolean> {
  try {
    const b = d.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ });
    const ok = await Promise.race([b.mapAsync(GPUMapMode.READ).then(() => true, () => false), wait(ms)]);
    b.destroy();
    return ok;
  } catch {
    return false;
  }
}

/**
 * After a failed GPU job: whether the device went away under it. If so the lost handler has run
 * (or runs now) before this returns. A readback cut short by the loss ("Buffer was unmapped
 * before mapping was resolved") can reject seconds before `device.lost` resolves when the CPU is
 * busy (seen on the software adapter), so a GPU-looking error asks the device itself.
 */
export async function lostUnderFailure(err: unknown): Promise<boolean> {
  const d = gpu.device;
  if (!d) return tf.getBackend() === 'webgpu';
  if (await Promise.race([d.lost.then(() => true), wait(200)])) return true;
  const e = err as Error | undefined;
  if (!/mapAsync|GPU|device|webgpu/i.test(`${e?.name} ${e?.message}`)) return false;
  if (await deviceAnswers(d, 2000)) return false;
  if (gpu.device !== d) return true; // lost meanwhile, and handled
  gpu.device = null; // its own `lost`, when it comes, is then ignored
  try {
    d.destroy();
  } catch { /* already gone */ }
  onDeviceLost(`GPU device lost (it stopped answering after "${e?.message ?? String(err)}")`);
  return true;
}

/** Test hook: destroys the current GPU device as if the GPU had been lost. */
export function simulateDeviceLoss(): boolean {
  if (!gpu.device) return false;
  gpu.intentional = false;
  gpu.device.destroy();
  return true;
}

// Set once, unless a caller (the bench's what-if) chose a count first.
let wasmThreadsSet = false;

/** Chooses the WASM thread count instead of the app's default (before the backend starts). */
export function overrideWasmThreads(n: number): number {
  wasmThreadsSet = true;
  return setWasmThreads(n);
}

/** Runs a tiny op and reads it back, to prove the backend works. */
async function smokeTest(): Promise<void> {
  const x = tf.tensor1d([1, 2, 3]);
  const y = tf.mul(x, 2);
  const v = await y.data();
  tf.dispose([x, y]);
  if (v[0] !== 2 || v[2] !== 6) throw new Error('smoke test gave wrong numbers');
}

async function tryBackend(name: BackendName): Promise<void> {
  if (name === 'webgpu') registerWebGpu();
  if (name === 'wasm' && !wasmThreadsSet) {
    setWasmThreads(APP_WASM_THREADS);
    wasmThreadsSet = true;
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`${LABEL[name]} failed to initialise`);
  await tf.ready();
  await smokeTest();
}

/**
 * WASM details: the count reported is what XNNPACK runs (see {@link setWasmThreads}).
 */
async function wasmDetails(): Promise<NonNullable<BackendInfo['wasm']>> {
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  let threads = 1;
  try {
    threads = getThreadsCount();
  } catch { /* not started */ }
  return { simd, threads, crossOriginIsolated: Boolean((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated) };
}

/**
 * Chooses and starts a backend.
 *
 * `auto`: WebGPU on a hardware adapter, else WASM, else WebGL, else CPU. A named choice is
 * tried first and alone (a software WebGPU adapter is accepted then); if it fails the rest of
 * the `auto` order follows, and the reason says so.
 * @throws if no backend at all starts (the CPU backend always should).
 */
export async function startBackend(choice: BackendChoice): Promise<BackendInfo> {
  const attempts: BackendAttempt[] = [];
  const forced = choice !== 'auto';
  // Leave any previous WebGPU device behind before choosing again.
  if (tf.getBackend() === 'webgpu' || gpu.device) teardownWebGpu();

  let softwareAdapter: GpuAdapterSummary | null = null;
  const order = forced ? [choice, ...BACKEND_ORDER.filter((b) => b !== choice)] : BACKEND_ORDER;
  for (const name of order) {
    if (name === 'webgpu') {
      const probe = await probeAdapter();
      if (!probe.summary) {
        attempts.push({ name, ok: false, note: probe.note });
        continue;
      }
      if (probe.summary.isSoftware && !(forced && choice === 'webgpu')) {
        softwareAdapter = probe.summary;
        attempts.push({
          name, ok: false,
          note: `software adapter (${gpuAdapterName(probe.summary)}): ranked below WASM; pick WebGPU to use it anyway`,
        });
        continue;
      }
    }
    try {
      await tryBackend(name);
    } catch (e) {
      attempts.push({ name, ok: false, note: (e as Error).message || String(e) });
      if (name === 'webgpu') teardownWebGpu();
      continue;
    }
    const info: BackendInfo = { name, forced, attempts, reason: '' };
    let detail = '';
    if (name === 'webgpu' && gpu.adapter) {
      info.adapter = gpu.adapter;
      detail = `on ${gpuAdapterName(gpu.adapter)}${gpu.adapter.isSoftware ? ' (software adapter, slow)' : ''}`;
    } else if (name === 'wasm') {
      info.wasm = await wasmDetails();
      detail = `${info.wasm.simd ? 'SIMD' : 'no SIMD'}, ${info.wasm.threads} thread${info.wasm.threads === 1 ? '' : 's'}`
        + (info.wasm.crossOriginIsolated ? '' : ' (page not cross-origin isolated: no threads)');
    }
    attempts.push({ name, ok: true, note: detail || 'started' });
    const failedBefore = attempts.filter((a) => !a.ok);
    let why: string;
    if (forced && name === choice) {
      why = 'chosen by you';
    } else if (forced) {
      const first = failedBefore[0];
      why = `${LABEL[choice as BackendName]} was requested but failed (${first?.note ?? 'unknown'}), so the next in order was used`;
    } else if (name === 'webgpu') {
      why = 'WebGPU is the first choice and a hardware adapter is available';
    } else if (softwareAdapter && name === 'wasm') {
      why = 'the only WebGPU adapter is a software fallback (' + gpuAdapterName(softwareAdapter)
        + '), which is far slower than WASM on this CPU';
    } else {
      why = failedBefore.map((a) => `${LABEL[a.name]}: ${a.note}`).join('; ') || 'first available';
    }
    info.reason = `${LABEL[name]}${detail ? ` (${detail})` : ''} — ${why}.`;
    return info;
  }
  throw new Error(`no TensorFlow.js backend could start: ${attempts.map((a) => `${a.name}: ${a.note}`).join('; ')}`);
}
