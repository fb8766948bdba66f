/**
 * The benchmark report: JSON shape of `runs/bench-results.json`, the one printed table, and the
 * target checks (PASS/MISS). Pure: no tfjs, no Node APIs, so it is unit-tested directly.
 */
import type { CaseId, CaseKind } from './cases';
import type { CaseResult, RunPolicy } from './runner';
import { fmtGrowth, fmtMs, fmtSi, formatTable } from './stats';

/** The measured environments, in run order. */
export const BENCH_BACKENDS = ['node-wasm', 'node-cpu', 'node-webgpu', 'chromium-wasm', 'chromium-webgpu', 'chromium-webgl'] as const;
export type BenchBackendId = (typeof BENCH_BACKENDS)[number];

/** The tfjs backend name behind each environment. */
export const TF_BACKEND: Record<BenchBackendId, 'wasm' | 'cpu' | 'webgpu' | 'webgl'> = {
  'node-wasm': 'wasm', 'node-cpu': 'cpu', 'node-webgpu': 'webgpu', 'chromium-wasm': 'wasm', 'chromium-webgpu': 'webgpu', 'chromium-webgl': 'webgl',
};

/** Results of one environment. */
export interface BackendResult {
  id: BenchBackendId;
  status: 'ok' | 'unavailable' | 'error';
  /** Why it is unavailable or failed. */
  reason?: string;
  /** What tfjs really ran on (`tf.getBackend()`). */
  tfBackend?: string;
  /** Facts about the backend: SIMD/threads, GPU adapter, ... */
  details?: string[];
  policy?: RunPolicy;
  /** Why the iteration policy differs from the default, when it does. */
  policyNote?: string;
  /** Per model: 'trained' or 'seeded init'. */
  weights?: Record<string, string>;
  cases: CaseResult[];
  /** Wall time of this environment's whole run, seconds. */
  wallS?: number;
}

/** One target line. */
export interface TargetCheck {
  target: string;
  status: 'PASS' | 'MISS';
  detail: string;
}

/** The whole `runs/bench-results.json`. */
export interface BenchReport {
  /** ISO time of the start. */
  startedAt: string;
  machine: Record<string, string | number>;
  options: Record<string, unknown>;
  /** Caveats that apply to every number (busy machine, seeded weights, ...). */
  notes: string[];
  backends: BackendResult[];
  targets: TargetCheck[];
}

/** Time and throughput targets of the pipeline and a `bdl` step. */
export const TARGETS = {
  pipelineMs: 400,
  bdlStepMs: 1500,
  convPctOfRaw: 70,
} as const;

/**
 * Most WebGPU programs dispatched and GPU→CPU reads per call, on Node's WebGPU (Dawn): tfjs's
 * fixed cost per dispatch, not the GPU, bounds a call made of thousands of small kernels.
 */
export const DISPATCH_TARGETS: Partial<Record<CaseId, { dispatches: number; reads: number }>> = {
  pipeline: { dispatches: 150, reads: 3 },
  fixed: { dispatches: 700, reads: 2 },
  td: { dispatches: 1200, reads: 2 },
  bdl: { dispatches: 1500, reads: 2 },
};

function caseOf(b: BackendResult | undefined, id: CaseId): CaseResult | undefined {
  return b?.cases.find((c) => c.id === id);
}

function whyNot(b: BackendResult | undefined, c: CaseResult | undefined, id: string): string {
  if (!b) return `${id}: backend not in this run`;
  if (b.status !== 'ok') return `${b.id} ${b.status}: ${b.reason ?? ''}`;
  if (!c) return 'case not in this run';
  return `${c.status}: ${c.reason ?? ''}`;
}

/** Checks the targets against the results. A target that was not measured is a MISS, with the reason. */
export function checkTargets(backends: readonly BackendResult[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const byId = new Map(backends.map((b) => [b.id, b]));
  const timed = (id: BenchBackendId, cid: CaseId, limit: number, target: string): void => {
    const b = byId.get(id);
    const c = caseOf(b, cid);
    if (b?.status === 'ok' && c?.status === 'ok' && c.medianMs !== undefined) {
      out.push({ target, status: c.medianMs <= limit ? 'PASS' : 'MISS', detail: `median ${fmtMs(c.medianMs)} ms (min ${fmtMs(c.minMs)}, ${c.warmRuns} runs)` });
    } else {
      out.push({ target, status: 'MISS', detail: `not measured (${whyNot(b, c, id)})` });
    }
  };
  timed('chromium-wasm', 'pipeline', TARGETS.pipelineMs, `full pipeline 640×480 on Chromium WASM ≤ ${TARGETS.pipelineMs} ms`);
  timed('chromium-wasm', 'bdl', TARGETS.bdlStepMs, `bdl step (batch 4, 128²) on Chromium WASM ≤ ${TARGETS.bdlStepMs} ms`);

  for (const [id, limit] of Object.entries(DISPATCH_TARGETS) as [CaseId, { dispatches: number; reads: number }][]) {
    const b = byId.get('node-webgpu');
    const c = caseOf(b, id);
    const target = `${id}: ≤ ${limit.dispatches} dispatches and ≤ ${limit.reads} reads on node-webgpu`;
    if (c?.dispatches === undefined || c.reads === undefined) {
      out.push({ target, status: 'MISS', detail: `not counted (${whyNot(b, c, id)})` });
    } else {
      const ok = c.dispatches <= limit.dispatches && c.reads <= limit.reads;
      out.push({ target, status: ok ? 'PASS' : 'MISS', detail: `${c.dispatches} dispatches, ${c.reads} reads (${c.kernels ?? '?'} kernels)` });
    }
  }

  for (const b of backends) {
    if (b.status !== 'ok') continue;
    for (const id of ['F', 'S'] as const) {
      const c = caseOf(b, id);
      const target = `${id} conv throughput ≥ ${TARGETS.convPctOfRaw}% of raw conv on ${b.id}`;
      if (c?.pctOfRaw === undefined) {
        out.push({ target, status: 'MISS', detail: `not measured (${whyNot(b, c, id)}${caseOf(b, 'conv')?.status === 'ok' ? '' : '; raw conv missing'})` });
        continue;
      }
      const raw = caseOf(b, 'conv')!;
      out.push({
        target, status: c.pctOfRaw >= TARGETS.convPctOfRaw ? 'PASS' : 'MISS',
        detail: `${c.pctOfRaw.toFixed(0)}% (${fmtSi(c.gmacPerS! * 1e9)}MAC/s of ${fmtSi(raw.gmacPerS! * 1e9)}MAC/s)`,
      });
    }
  }

  const grew: string[] = [];
  let loops = 0;
  let iterations = Infinity;
  for (const b of backends) {
    for (const c of b.cases) {
      if (!c.leak) continue;
      loops++;
      iterations = Math.min(iterations, c.leak.iterations);
      const l = c.leak;
      if (l.tensorGrowth !== 0 || l.byteGrowth !== 0 || l.residueTensors !== 0) {
        grew.push(`${b.id}/${c.id}: ${fmtGrowth(l.tensorGrowth)} tensors, ${fmtGrowth(l.byteGrowth)} bytes over ${l.iterations} iterations, ${l.residueTensors} left after dispose`);
      }
    }
  }
  out.push(loops === 0
    ? { target: 'zero tensor growth in every loop', status: 'MISS', detail: 'no loop measured' }
    : grew.length
      ? { target: 'zero tensor growth in every loop', status: 'MISS', detail: grew.join('; ') }
      : { target: 'zero tensor growth in every loop', status: 'PASS', detail: `${loops} loops, 0 tensors and 0 bytes growth (≥ ${iterations} iterations each), nothing left after dispose` });
  return out;
}

const KIND_ORDER: Record<CaseKind, number> = { ceiling: 0, forward: 1, pipeline: 2, train: 3 };

/** The one table: a row per backend × case; unavailable backends and cases keep a row with the reason. */
export function formatResultsTable(backends: readonly BackendResult[]): string {
  const header = ['backend', 'case', 'cold ms', 'median ms', 'min ms', 'runs', 'MACs/call', 'GMAC/s', '% raw', 'kernels', 'dispatches', 'reads', 'leak Δtensors/Δbytes (iters)'];
  const align = ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'] as const;
  const rows: string[][] = [];
  for (const b of backends) {
    if (b.status !== 'ok') {
      rows.push([b.id, `${b.status.toUpperCase()}: ${b.reason ?? ''}`]);
      continue;
    }
    const cases = b.cases.slice().sort((x, y) => KIND_ORDER[x.kind] - KIND_ORDER[y.kind]);
    for (const c of cases) {
      if (c.status !== 'ok') {
        rows.push([b.id, c.label, `${c.status === 'unavailable' ? 'n/a' : 'ERROR'}: ${c.reason ?? ''}`]);
        continue;
      }
      const l = c.leak;
      rows.push([
        b.id, c.label, fmtMs(c.coldMs), fmtMs(c.medianMs), fmtMs(c.minMs), String(c.warmRuns ?? '–'),
        (c.macsSource?.startsWith('profile') ? '~' : '') + fmtSi(c.macs), c.gmacPerS === undefined ? '–' : c.gmacPerS.toFixed(2),
        c.pctOfRaw === undefined ? '–' : `${c.pctOfRaw.toFixed(0)}%`,
        String(c.kernels ?? '–'), String(c.dispatches ?? '–'), String(c.reads ?? '–'),
        l ? `${fmtGrowth(l.tensorGrowth)}/${fmtGrowth(l.byteGrowth)} (${l.iterations})${l.residueTensors ? ` residue ${l.residueTensors}` : ''}` : '–',
      ]);
    }
  }
  return formatTable(header, rows, [...align]);
}

/** The PASS/MISS lines. */
export function formatTargets(targets: readonly TargetCheck[]): string {
  return targets.map((t) => `${t.status}  ${t.target}: ${t.detail}`).join('\n');
}
