/**
 * Runs the shared case list on the current tfjs backend and returns plain JSON: cold run, warm
 * timings, multiply-adds, throughput against the raw-conv ceiling, and the tensors and bytes
 * still held after the warm iterations (leak check). Used by Node and by the browser worker.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  benchCases, makeEnv, CASE_IDS, caseSizes,
  type BenchCase, type CaseId, type CaseInstance, type CaseKind, type CaseSizes, type ModelStore,
} from './cases';
import { profileMacs } from './macs';
import { countDispatches, kernelCounts } from './call-counts';
import { gmacPerSecond, planIterations, summarize } from './stats';

/** Iteration policy of one backend. */
export interface RunPolicy {
  /** Minimum warm timed runs of inference cases (the statistics need ≥ 5). */
  minRuns: number;
  /** Minimum warm timed runs of training-step cases. */
  minTrainRuns: number;
  /** Warm iterations wanted for the leak check (100 in a full run). */
  iterations: number;
  /** Wall-time budget of one case's warm loop; iterations are cut to fit it (never below the minimum). */
  caseBudgetMs: number;
  /**
   * Count the multiply-adds of one extra, untimed run with `tf.profile` (needed for the
   * training steps). Off on slow backends: the count does not depend on the backend, so the
   * CLI copies it from another backend of the same run.
   */
  profileMacs: boolean;
  /** Work sizes: full or reduced (software WebGPU). */
  sizes: 'full' | 'reduced';
}

/** Tensor memory before and after the warm loop. */
export interface LeakCheck {
  /** Warm iterations between the two readings. */
  iterations: number;
  tensorsBefore: number;
  tensorsAfter: number;
  bytesBefore: number;
  bytesAfter: number;
  tensorGrowth: number;
  byteGrowth: number;
  /** Tensors left over by setup + runs + dispose of the whole case (should be 0 too). */
  residueTensors: number;
}

/** Where a case's multiply-add count comes from. */
export type MacsSource = 'macs()' | 'profile' | 'profile (copied)';

/** Result of one case on one backend. */
export interface CaseResult {
  id: CaseId;
  label: string;
  kind: CaseKind;
  status: 'ok' | 'unavailable' | 'error';
  /** Why it is unavailable, or the error. */
  reason?: string;
  note?: string;
  /** Multiply-adds per call. */
  macs?: number;
  macsSource?: MacsSource;
  /** Multiply-adds of every conv/matmul kernel of one call as `tf.profile` saw them (when profiled). */
  profiledMacs?: number;
  /** Kernels of one warm call (`tf.profile`), in all and by name (`call-counts.ts`). */
  kernels?: number;
  kernelsByName?: Record<string, number>;
  /** WebGPU only: programs dispatched by one warm call, in all and by program, and its GPU→CPU reads. */
  dispatches?: number;
  dispatchesByProgram?: Record<string, number>;
  reads?: number;
  /** First run after setup (kernel compilation, warm-up), reported apart. */
  coldMs?: number;
  medianMs?: number;
  minMs?: number;
  /** Warm runs timed (all warm iterations are timed). */
  warmRuns?: number;
  /** Every warm run's time in order, to 0.1 ms: on a shared machine the spread says as much as the median. */
  samplesMs?: number[];
  /** Achieved G multiply-adds per second at the median. */
  gmacPerS?: number;
  /** `gmacPerS` as a percentage of the raw conv rate of the same run. */
  pctOfRaw?: number;
  leak?: LeakCheck;
}

/** Options of {@link runCases}. */
export interface RunCasesOptions {
  /** How to run, and at which work sizes (`policy.sizes`). */
  policy: RunPolicy;
  /** Subset of case ids (default all; the raw conv always runs). */
  only?: readonly CaseId[];
  /** Progress lines. */
  log?: (line: string) => void;
}

const now = (): number => performance.now();

async function measure(c: BenchCase, inst: CaseInstance, policy: RunPolicy, log: (s: string) => void): Promise<Partial<CaseResult>> {
  let t0 = now();
  await inst.run();
  const coldMs = now() - t0;
  const minRuns = c.kind === 'train' ? policy.minTrainRuns : policy.minRuns;
  const before = tf.memory();
  const times: number[] = [];
  t0 = now();
  await inst.run();
  times.push(now() - t0);
  // Every warm iteration is timed; their number is set from the first one's speed.
  const n = planIterations(times[0], { minRuns, target: policy.iterations, budgetMs: policy.caseBudgetMs });
  for (let i = 1; i < n; i++) {
    t0 = now();
    await inst.run();
    times.push(now() - t0);
  }
  const after = tf.memory();
  const s = summarize(times);
  const growth = after.numTensors - before.numTensors;
  log(`  ${c.id}: cold ${coldMs.toFixed(1)} ms, median ${s.median.toFixed(1)} ms, min ${s.min.toFixed(1)} ms over ${s.n}; tensor growth ${growth}`);

  // One profiled run counts the kernels (and the multiply-adds where asked); on WebGPU a second,
  // unprofiled one counts the dispatches and reads.
  let profiledMacs: number | undefined;
  const p = await tf.profile(() => inst.run());
  if (policy.profileMacs) profiledMacs = profileMacs(p.kernels);
  const { kernels, byKernel } = kernelCounts(p.kernels);
  const d = await countDispatches(() => inst.run());
  log(`  ${c.id}: ${kernels} kernels${d ? `, ${d.dispatches} dispatches, ${d.reads} reads` : ''}`);
  const macs = inst.macs ?? profiledMacs;
  return {
    macs, macsSource: inst.macs !== undefined ? 'macs()' : profiledMacs !== undefined ? 'profile' : undefined, profiledMacs,
    kernels, kernelsByName: byKernel,
    ...(d ? { dispatches: d.dispatches, dispatchesByProgram: d.byProgram, reads: d.reads } : {}),
    coldMs, medianMs: s.median, minMs: s.min, warmRuns: s.n, samplesMs: times.map((t) => Math.round(t * 10) / 10),
    gmacPerS: macs ? gmacPerSecond(macs, s.median) : undefined,
    leak: {
      iterations: n,
      tensorsBefore: before.numTensors, tensorsAfter: after.numTensors,
      bytesBefore: before.numBytes, bytesAfter: after.numBytes,
      tensorGrowth: growth,
      byteGrowth: after.numBytes - before.numBytes,
      residueTensors: 0,
    },
  };
}

async function runOne(c: BenchCase, models: ModelStore, sizes: CaseSizes, policy: RunPolicy, log: (s: string) => void): Promise<CaseResult> {
  const base: CaseResult = { id: c.id, label: c.label, kind: c.kind, status: 'ok', note: c.note };
  if (c.unavailable) return { ...base, status: 'unavailable', reason: c.unavailable };
  const start = tf.memory().numTensors;
  let inst: CaseInstance | undefined;
  let result: CaseResult;
  try {
    inst = await c.setup(makeEnv(models, sizes));
    result = { ...base, ...(await measure(c, inst, policy, log)) };
  } catch (e) {
    result = { ...base, status: 'error', reason: (inst ? '' : 'setup: ') + ((e as Error).message || String(e)) };
    log(`  ${c.id}: error: ${result.reason}`);
  }
  try {
    inst?.dispose();
  } catch { /* a failed case may be half set up */ }
  if (result.leak) result.leak.residueTensors = tf.memory().numTensors - start;
  return result;
}

/**
 * Counts the multiply-adds of one call of case `id` at `sizes` on the current backend: set up,
 * one warm-up run, one profiled run, dispose. For filling in counts that slow backends skip.
 * @returns undefined when the case is unavailable or fails.
 */
export async function countCaseMacs(models: ModelStore, sizes: CaseSizes, id: CaseId): Promise<number | undefined> {
  const c = benchCases(sizes).find((x) => x.id === id);
  if (!c || c.unavailable) return undefined;
  let inst: CaseInstance | undefined;
  try {
    inst = await c.setup(makeEnv(models, sizes));
    await inst.run();
    const p = await tf.profile(() => inst!.run());
    return profileMacs(p.kernels);
  } catch {
    return undefined;
  } finally {
    inst?.dispose();
  }
}

/** Fills `pctOfRaw` of every timed case from the raw conv's rate in the same list. */
export function relateToRaw(results: CaseResult[]): void {
  const raw = results.find((r) => r.id === 'conv' && r.status === 'ok')?.gmacPerS;
  for (const r of results) r.pctOfRaw = raw && r.gmacPerS !== undefined ? (100 * r.gmacPerS) / raw : undefined;
}

/**
 * Runs the cases on the current backend, in order. The raw conv ceiling comes first, and each
 * other case's throughput is given as a percentage of it.
 */
export async function runCases(models: ModelStore, opts: RunCasesOptions): Promise<CaseResult[]> {
  const log = opts.log ?? (() => {});
  const sizes = caseSizes(opts.policy.sizes);
  const only = new Set<CaseId>(opts.only ?? CASE_IDS);
  only.add('conv'); // the reference for every percentage
  const results: CaseResult[] = [];
  for (const c of benchCases(sizes)) {
    if (!only.has(c.id)) continue;
    log(`${c.label} …`);
    results.push(await runOne(c, models, sizes, opts.policy, log));
  }
  relateToRaw(results);
  return results;
}
