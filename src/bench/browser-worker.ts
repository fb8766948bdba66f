/**
 * The browser bench's module worker: starts the requested tfjs backend with the app's own
 * start-up code (`src/worker/backend.ts`: same WASM paths, thread count, WebGPU device limits),
 * loads trained weights from `models/` when the build has them, and runs the shared case list.
 * A backend that does not start, or starts as something else, is reported as unavailable.
 */
import * as tf from '@tensorflow/tfjs-core';
import { overrideWasmThreads, startBackend } from '../worker/backend';
import { MODEL_NAMES, type ModelName } from '../core/models/registry';
import { ModelStore, type WeightBytes } from './cases';
import { runCases } from './runner';
import { choosePolicy, type EngineSpeed } from './policy';
import { TF_BACKEND, type BackendResult } from './report';
import type { BenchStartMessage, BenchWorkerMessage } from './browser-protocol';

const post = (m: BenchWorkerMessage): void => (self as unknown as Worker).postMessage(m);
const log = (line: string): void => post({ type: 'log', line });

/** Reads `<base><name>/model.json` and its shards; null when the build has no such model. */
async function fetchWeights(base: string, name: ModelName): Promise<WeightBytes | null> {
  const url = new URL(`${name}/model.json`, base);
  const res = await fetch(url, { cache: 'no-cache' });
  // A missing file may come back as the preview server's HTML fallback rather than a 404.
  if (!res.ok || !(res.headers.get('content-type') ?? '').includes('json')) return null;
  const modelJson = (await res.json()) as { weightsManifest?: { paths?: string[] }[] };
  const shards: ArrayBuffer[] = [];
  for (const g of modelJson.weightsManifest ?? []) {
    for (const p of g.paths ?? []) {
      const r = await fetch(new URL(p, url), { cache: 'no-cache' });
      if (!r.ok) throw new Error(`HTTP ${r.status} for ${p}`);
      shards.push(await r.arrayBuffer());
    }
  }
  return { modelJson, shards };
}

/** The WebGL renderer string (to tell SwiftShader from a real GPU), or '' when unknown. */
function webglRenderer(): string {
  try {
    const gl = (tf.backend() as unknown as { gpgpu?: { gl?: WebGL2RenderingContext } }).gpgpu?.gl;
    if (!gl) return '';
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
  } catch {
    return '';
  }
}

/** What-if: a WASM thread count other than the app's (every core). */
function liftWasmThreadCap(n: number): void {
  const threads = overrideWasmThreads(n);
  log(`what-if: WASM on ${threads} thread(s) (navigator.hardwareConcurrency reported as ${2 * threads})`);
}

async function run(msg: BenchStartMessage): Promise<BackendResult> {
  const { config } = msg;
  const want = TF_BACKEND[config.id];
  const t0 = performance.now();
  if (want === 'wasm' && config.wasmThreads) liftWasmThreadCap(config.wasmThreads);
  let info;
  try {
    info = await startBackend(want);
  } catch (e) {
    return { id: config.id, status: 'unavailable', reason: (e as Error).message, cases: [] };
  }
  if (info.name !== want) {
    const failed = info.attempts.find((a) => a.name === want);
    return {
      id: config.id, status: 'unavailable', cases: [],
      reason: `${want} did not start: ${failed?.note ?? info.reason}`,
    };
  }
  const details: string[] = [info.reason];
  if (want === 'wasm') {
    const mt = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
    details.push(config.wasmThreads
      ? `what-if --wasm-threads ${config.wasmThreads} (the app runs one thread per core)`
      : `threads supported: ${mt}, crossOriginIsolated: ${String(self.crossOriginIsolated)}; XNNPACK threads as the app runs them (one per core)`);
  }
  let speed: EngineSpeed = want === 'cpu' ? 'cpu' : 'fast';
  if (info.adapter?.isSoftware) speed = 'software-webgpu';
  if (want === 'webgl') {
    const r = webglRenderer();
    details.push(`WebGL renderer: ${r || 'unknown'}`);
    if (/swiftshader|llvmpipe|software/i.test(r)) speed = 'software-gl';
  }
  const { policy, note } = choosePolicy(speed, config.overrides);
  log(`${config.id}: ${details.join('; ')}`);

  const models = new ModelStore();
  await models.prepare((name) => fetchWeights(msg.modelsBase, name), MODEL_NAMES);
  const cases = await runCases(models, { policy, only: config.only, log });
  return {
    id: config.id, status: 'ok', tfBackend: tf.getBackend(), details, policy, policyNote: note,
    weights: { ...models.weights }, cases, wallS: (performance.now() - t0) / 1000,
  };
}

self.onmessage = (e: MessageEvent<BenchStartMessage>) => {
  if (e.data?.type !== 'start') return;
  run(e.data).then(
    (result) => post({ type: 'result', result }),
    (err: unknown) => post({
      type: 'result',
      result: { id: e.data.config.id, status: 'error', reason: (err as Error)?.message ?? String(err), cases: [] },
    }),
  );
};
