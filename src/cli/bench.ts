/**
 * `npm run bench`: times F, S, G, the full pipeline (640×480) and one fine-tune step per
 * strategy (batch 4, 128×128) on Node WASM, Node CPU, Node WebGPU (Dawn), Chromium WASM,
 * Chromium WebGPU and Chromium WebGL; prints one table and the target checks, and writes
 * `runs/bench-results.json`.
 *
 *   npm run bench -- [--backends node-wasm,node-cpu,node-webgpu,chromium-wasm,chromium-webgpu,chromium-webgl]
 *                    [--cases F,S,G,pipeline,fixed,bdl,td] [--reps N] [--iters N] [--budget S]
 *                    [--quick] [--full-size] [--no-build] [--out runs/bench-results.json] [--browser-timeout S]
 *                    [--wasm-threads N]
 *
 * `--quick` is a smoke run (2 warm runs, ≤ 5 iterations); slow engines (tfjs CPU, software
 * WebGL/WebGPU) get fewer runs than the full 5+/100, and a software WebGPU adapter reduced
 * sizes unless `--full-size`; the table's notes say which. `--wasm-threads N` is a what-if for
 * Chromium WASM: N XNNPACK threads instead of the app's one per core.
 *
 * Node backends run in this process. The browser part builds `src/bench/bench.html` with Vite (the
 * app's config, so the same COOP/COEP headers, WASM thread fix and `models/` copy apply) into
 * `.tmp/bench/dist`, serves it with `vite preview`, and drives Chromium (`/usr/bin/chromium`, or
 * `CHROMIUM_PATH`) through playwright-core, one fresh profile per backend. Everything runs one
 * after the other: two cores, and parallel runs would spoil each other's timings.
 */
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { useBackend, webgpuAdapter, webgpuErrors, webgpuSoftware } from './node-backend';
import type { NodeBackend } from './args';
import { MODEL_NAMES, type ModelName } from '../core/models/registry';
import { CASE_IDS, ModelStore, caseSizes, type CaseId, type WeightBytes } from '../bench/cases';
import { countCaseMacs, relateToRaw, runCases } from '../bench/runner';
import { gmacPerSecond } from '../bench/stats';
import { choosePolicy, type PolicyOverrides } from '../bench/policy';
import {
  BENCH_BACKENDS, TF_BACKEND, checkTargets, formatResultsTable, formatTargets,
  type BackendResult, type BenchBackendId, type BenchReport,
} from '../bench/report';
import type { BenchPageState, BrowserBenchConfig } from '../bench/browser-protocol';

const ROOT = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const MODELS_DIR = process.env.MODELS_DIR ?? path.join(ROOT, 'models');

/** Chromium flags that keep it off the network (docs/benchmarks.md) and give a WebGPU adapter without a GPU. */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu',
];

interface Options {
  backends: BenchBackendId[];
  cases?: CaseId[];
  overrides: PolicyOverrides;
  build: boolean;
  out: string;
  browserTimeoutS: number;
  /** What-if: lift tfjs's WASM thread cap in Chromium to this many threads. */
  wasmThreads?: number;
}

/** Prints the usage: on stdout with exit 0 for --help, on stderr with exit 2 after `msg`. */
function usage(msg?: string): never {
  if (msg) console.error(msg);
  (msg ? console.error : console.log)(`usage: npm run bench -- [--backends ${BENCH_BACKENDS.join(',')}] [--cases ${CASE_IDS.filter((c) => c !== 'conv').join(',')}]
       [--reps N] [--iters N] [--budget SECONDS] [--quick] [--full-size] [--no-build] [--out FILE] [--browser-timeout SECONDS] [--wasm-threads N]`);
  process.exit(msg ? 2 : 0);
}

function parseArgs(argv: string[]): Options {
  const o: Options = { backends: [...BENCH_BACKENDS], overrides: {}, build: true, out: path.join(ROOT, 'runs', 'bench-results.json'), browserTimeoutS: 3600 };
  const num = (v: string | undefined, name: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) usage(`--${name} needs a positive number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string | undefined => argv[++i];
    switch (a) {
      case '--backends': {
        const list = (next() ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        for (const b of list) if (!(BENCH_BACKENDS as readonly string[]).includes(b)) usage(`unknown backend '${b}'`);
        o.backends = BENCH_BACKENDS.filter((b) => list.includes(b));
        break;
      }
      case '--cases': {
        const list = (next() ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        for (const c of list) if (!(CASE_IDS as readonly string[]).includes(c)) usage(`unknown case '${c}'`);
        o.cases = list as CaseId[];
        break;
      }
      case '--reps': o.overrides.reps = Math.round(num(next(), 'reps')); break;
      case '--iters': o.overrides.iterations = Math.round(num(next(), 'iters')); break;
      case '--budget': o.overrides.budgetS = num(next(), 'budget'); break;
      case '--quick': o.overrides.quick = true; break;
      case '--full-size': o.overrides.fullSize = true; break;
      case '--wasm-threads': o.wasmThreads = Math.round(num(next(), 'wasm-threads')); break;
      case '--no-build': o.build = false; break;
      case '--out': o.out = path.resolve(next() ?? usage('--out needs a file')); break;
      case '--browser-timeout': o.browserTimeoutS = num(next(), 'browser-timeout'); break;
      case '-h': case '--help': usage();
      // eslint-disable-next-line no-fallthrough
      default: usage(`unknown option '${a}'`);
    }
  }
  return o;
}

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** Reads `models/<name>/model.json` and its shards as bytes; null when the folder has none. */
async function readWeights(name: ModelName): Promise<WeightBytes | null> {
  const dir = path.join(MODELS_DIR, name);
  const file = path.join(dir, 'model.json');
  if (!existsSync(file)) return null;
  const modelJson = JSON.parse(await readFile(file, 'utf8')) as { weightsManifest?: { paths?: string[] }[] };
  const shards: ArrayBuffer[] = [];
  for (const g of modelJson.weightsManifest ?? []) {
    for (const p of g.paths ?? []) {
      if (path.isAbsolute(p) || p.split(/[\\/]/).includes('..')) throw new Error(`${file}: shard '${p}' leaves the folder`);
      const buf = await readFile(path.join(dir, p));
      shards.push(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
    }
  }
  return { modelJson, shards };
}

type NodeBenchId = Extract<BenchBackendId, `node-${string}`>;

async function runNode(id: NodeBenchId, o: Options): Promise<BackendResult> {
  const t0 = performance.now();
  const want = TF_BACKEND[id] as NodeBackend;
  try {
    await useBackend(want);
  } catch (e) {
    return { id, status: 'unavailable', reason: (e as Error).message, cases: [] };
  }
  const details: string[] = [`Node ${process.version}`];
  if (want === 'webgpu') details.push(`Dawn (the 'webgpu' package) on ${webgpuAdapter}`);
  if (want === 'wasm') {
    const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    let threads = 1;
    try {
      threads = getThreadsCount();
    } catch { /* not started */ }
    details.push(`${simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads === 1 ? '' : 's'} (Node's tfjs WASM runs without threads)`);
  }
  const { policy, note } = choosePolicy(want === 'cpu' ? 'cpu' : want === 'webgpu' && webgpuSoftware ? 'software-webgpu' : 'fast', o.overrides);
  const models = new ModelStore();
  await models.prepare(readWeights, MODEL_NAMES);
  const cases = await runCases(models, { policy, only: o.cases, log });
  // A kernel that failed to build still "runs": its timing would be of nothing.
  if (want === 'webgpu' && webgpuErrors.length) details.push(`${webgpuErrors.length} WebGPU errors, so these timings are of wrong work; the first: ${webgpuErrors[0]}`);
  return {
    id, status: 'ok', tfBackend: tf.getBackend(), details, policy, policyNote: note,
    weights: { ...models.weights }, cases, wallS: (performance.now() - t0) / 1000,
  };
}

/** Builds `src/bench/bench.html` with the app's Vite config into `outDir`. */
async function buildBrowserBench(outDir: string): Promise<void> {
  const { build } = await import('vite');
  await build({
    root: ROOT,
    configFile: path.join(ROOT, 'vite.config.ts'),
    logLevel: 'warn',
    build: {
      outDir, emptyOutDir: true,
      rolldownOptions: { input: { bench: path.join(ROOT, 'src', 'bench', 'bench.html') } },
    },
  });
}

async function runBrowser(ids: BenchBackendId[], o: Options): Promise<BackendResult[]> {
  const unavailable = (reason: string): BackendResult[] => ids.map((id) => ({ id, status: 'unavailable', reason, cases: [] }));
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) return unavailable(`no Chromium at ${executablePath} (set CHROMIUM_PATH)`);
  const scratch = path.join(ROOT, '.tmp', 'bench');
  const outDir = path.join(scratch, 'dist');
  if (o.build || !existsSync(path.join(outDir, 'src', 'bench', 'bench.html'))) {
    log('building src/bench/bench.html with Vite …');
    try {
      await buildBrowserBench(outDir);
    } catch (e) {
      return unavailable(`Vite build failed: ${(e as Error).message}`);
    }
  }
  const { preview } = await import('vite');
  const server = await preview({
    root: ROOT, configFile: path.join(ROOT, 'vite.config.ts'), logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 4199, strictPort: false, open: false },
  });
  const base = server.resolvedUrls?.local[0];
  if (!base) {
    await server.close();
    return unavailable('vite preview did not report a URL');
  }
  const { chromium } = await import('playwright-core');
  // Chromium writes to ~/.config and /tmp even with a fresh profile: keep it in a throwaway folder.
  const throwaway = path.join(scratch, `chromium-${process.pid}`);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  for (const d of ['config', 'cache', 'tmp']) await mkdir(path.join(throwaway, d), { recursive: true });
  Object.assign(env, { XDG_CONFIG_HOME: path.join(throwaway, 'config'), XDG_CACHE_HOME: path.join(throwaway, 'cache'), TMPDIR: path.join(throwaway, 'tmp') });

  const results: BackendResult[] = [];
  try {
    for (const id of ids) {
      log(`${id} …`);
      const profile = path.join(throwaway, `profile-${id}`);
      let context;
      try {
        context = await chromium.launchPersistentContext(profile, { executablePath, args: CHROMIUM_ARGS, env, headless: true });
      } catch (e) {
        results.push({ id, status: 'unavailable', reason: `Chromium did not start: ${(e as Error).message.split('\n')[0]}`, cases: [] });
        continue;
      }
      try {
        const page = context.pages()[0] ?? (await context.newPage());
        page.on('console', (m) => {
          const t = m.text();
          if (t.startsWith('[bench] ')) log(`  ${t.slice(8)}`);
          // Missing files show up as HTTP responses below, with their URL.
          else if (m.type() === 'error' && !t.startsWith('Failed to load resource')) log(`  console error: ${t}`);
        });
        page.on('response', (r) => {
          // No trained weights in the build is normal (seeded init then); other misses are worth a line.
          if (r.status() >= 400 && !r.url().includes('/models/')) log(`  HTTP ${r.status()} ${r.url()}`);
        });
        page.on('pageerror', (e) => log(`  page error: ${e.message}`));
        const config: BrowserBenchConfig = { id, overrides: o.overrides, only: o.cases, wasmThreads: o.wasmThreads };
        const version = context.browser()?.version();
        await page.goto(`${base}src/bench/bench.html?config=${encodeURIComponent(JSON.stringify(config))}`);
        await page.waitForFunction(() => (window as unknown as { __bench?: BenchPageState }).__bench?.done === true,
          null, { timeout: o.browserTimeoutS * 1000, polling: 1000 });
        const state = await page.evaluate(() => (window as unknown as { __bench: BenchPageState }).__bench);
        if (state.result) {
          if (version) state.result.details = [`Chromium ${version}`, ...(state.result.details ?? [])];
          results.push(state.result);
        } else results.push({ id, status: 'error', reason: state.error ?? 'no result', cases: [] });
      } catch (e) {
        results.push({ id, status: 'error', reason: (e as Error).message.split('\n')[0], cases: [] });
      } finally {
        await context.close();
      }
    }
  } finally {
    await server.close();
    await rm(throwaway, { recursive: true, force: true });
  }
  return results;
}

/**
 * Slow backends skip the profiled run that counts a training step's MACs. The count depends on
 * the work, not the backend: copy it from a case of the same label (same sizes) when one was
 * profiled, else count it here on Node WASM (one untimed run per missing case).
 */
async function fillMissingMacs(backends: BackendResult[]): Promise<void> {
  const counted = new Map<string, number>();
  for (const b of backends) for (const c of b.cases) if (c.macsSource === 'profile' && c.macs) counted.set(c.label, c.macs);
  const missing = backends.flatMap((b) => b.cases.filter((c) => c.status === 'ok' && c.macs === undefined)
    .map((c) => ({ c, sizes: caseSizes(b.policy?.sizes ?? 'full') })));
  if (missing.some(({ c }) => !counted.has(c.label))) {
    await useBackend('wasm');
    const models = new ModelStore();
    await models.prepare(readWeights, MODEL_NAMES);
    for (const { c, sizes } of missing) {
      if (counted.has(c.label)) continue;
      log(`counting the MACs of '${c.label}' on Node WASM …`);
      const n = await countCaseMacs(models, sizes, c.id);
      if (n) counted.set(c.label, n);
    }
  }
  for (const b of backends) {
    let changed = false;
    for (const c of b.cases) {
      if (c.status !== 'ok' || c.macs !== undefined || !counted.has(c.label)) continue;
      c.macs = counted.get(c.label)!;
      c.macsSource = 'profile (copied)';
      c.gmacPerS = c.medianMs ? gmacPerSecond(c.macs, c.medianMs) : undefined;
      changed = true;
    }
    if (changed) relateToRaw(b.cases);
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const started = new Date();
  const backends: BackendResult[] = [];
  for (const id of BENCH_BACKENDS) {
    if (!o.backends.includes(id) || !id.startsWith('node-')) continue;
    log(`${id} …`);
    backends.push(await runNode(id as NodeBenchId, o));
  }
  const browserIds = o.backends.filter((b) => b.startsWith('chromium-'));
  if (browserIds.length) backends.push(...(await runBrowser(browserIds, o)));
  // Backends not asked for are listed too, so the table never drops one silently.
  for (const id of BENCH_BACKENDS) {
    if (!o.backends.includes(id)) backends.push({ id, status: 'unavailable', reason: 'not selected (--backends)', cases: [] });
  }
  backends.sort((a, b) => BENCH_BACKENDS.indexOf(a.id) - BENCH_BACKENDS.indexOf(b.id));
  await fillMissingMacs(backends);

  const weightsUsed = new Set(backends.flatMap((b) => Object.values(b.weights ?? {})));
  const notes = [
    weightsUsed.has('trained') && weightsUsed.size === 1
      ? 'weights: trained (models/)'
      : `weights: ${[...weightsUsed].join(', ') || 'none loaded'} — seeded init is fine for timing (only detection decoding depends on values)`,
    'input: a synthetic seeded 640×480 MSRS-like pair (src/bench/scene.ts); timing does not depend on content except box decoding',
    'training-step MACs (~): every conv/matmul kernel of one step as tf.profile saw it (forward passes, gradient convs, loss filters); slow backends take the count from another backend or from a profiled run on Node WASM',
    'inference cases sync by reading one output element (GPU backends run the whole graph behind it); the pipeline reads everything back',
    `machine: ${os.cpus().length} CPU cores (${os.cpus()[0]?.model ?? 'unknown'}), load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} at the end`,
  ];
  const report: BenchReport = {
    startedAt: started.toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '', platform: `${os.platform()} ${os.release()}`, node: process.version, loadAvgAtEnd: os.loadavg().map((x) => x.toFixed(2)).join(' ') },
    options: { ...o.overrides, backends: o.backends, cases: o.cases ?? 'all', wasmThreads: o.wasmThreads ?? 'app default' },
    notes,
    backends,
    targets: checkTargets(backends),
  };

  const lines: string[] = ['', formatResultsTable(backends), ''];
  for (const b of backends) {
    if (b.status !== 'ok') continue;
    lines.push(`${b.id}: ${[...(b.details ?? []), b.policyNote, b.weights ? `weights ${Object.entries(b.weights).map(([k, v]) => `${k}=${v}`).join(', ')}` : '', b.wallS ? `${b.wallS.toFixed(0)} s` : ''].filter(Boolean).join('; ')}`);
  }
  lines.push(...notes.map((n) => `note: ${n}`), '', formatTargets(report.targets), '');
  console.log(lines.join('\n'));

  await mkdir(path.dirname(o.out), { recursive: true });
  await writeFile(o.out, JSON.stringify(report, null, 1) + '\n');
  log(`wrote ${path.relative(process.cwd(), o.out) || o.out}`);
}

main().then(
  () => process.exit(0), // the WASM backend and vite keep handles open
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
