/**
 * Runs the shared case list on the current tfjs backend and returns plain JSON: cold run, warm
 * timings, multiply-adds, throughput against the raw-conv ceiling, and the tensors and bytes
 * still held after the warm iterations (leak check). Used by Node and by the browser worker.
 */
import * as tf from '@tensorflow/tfjs-core';
import { benchCases, makeEnv, CASE_IDS, type BenchCase, type CaseId, type CaseInstance, type CaseKind, type ModelStore } from './cases';
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
  /** Tensors left over by setup + dispose of the whole case (should be 0 too). */
  residueTensors: number;
}

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
  macsNote?: string;
  /** First run after setup (kernel compilation, warm-up), reported apart. */
  coldMs?: number;
  medianMs?: number;
  minMs?: number;
  /** Warm runs timed (all warm iterations are timed). */
  warmRuns?: number;
  /** Achieved G multiply-adds per second at the median. */
  gmacPerS?: number;
  /** `gmacPerS` as a percentage of the raw conv rate of the same run. */
  pctOfRaw?: number;
  leak?: LeakCheck;
}

/** Options of {@link runCases}. */
export interface RunCasesOptions {
  policy: RunPolicy;
  /** Subset of case ids (default all). */
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
  const macs = inst.macs();
  const growth = after.numTensors - before.numTensors;
  log(`  ${c.id}: cold ${coldMs.toFixed(1)} ms, median ${s.median.toFixed(1)} ms, min ${s.min.toFixed(1)} ms over ${s.n}; tensor growth ${growth}`);
  return {
    macs, macsNote: inst.macsNote,
    coldMs, medianMs: s.median, minMs: s.min, warmRuns: s.n,
    gmacPerS: macs > 0 ? gmacPerSecond(macs, s.median) : undefined,
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

async function runOne(c: BenchCase, models: ModelStore, policy: RunPolicy, log: (s: string) => void): Promise<CaseResult> {
  const base: CaseResult = { id: c.id, label: c.label, kind: c.kind, status: 'ok', note: c.note };
  if (c.unavailable) return { ...base, status: 'unavailable', reason: c.unavailable };
  const start = tf.memory().numTensors;
  let inst: CaseInstance | undefined;
  let result: CaseResult;
  try {
    inst = await c.setup(makeEnv(models));
    result = { ...base, ...(await measure(c, inst, policy, log)) };
  } catch (e) {
    result = { ...base, status: 'error', reason: (inst ? '' : 'setup: ') + ((e as Error).message || String(e)) };
    log(`  ${c.id}: error: ${result.reason}`);
  }
  try {
    inst?.dispose();
  } catch { /* a failed case may be half set up */ }
  // Let asynchronous disposals (the training generator's return) settle before counting.
  await new Promise((r) => setTimeout(r, 0));
  if (result.leak) result.leak.residueTensors = tf.memory().numTensors - start;
  return result;
}

/**
 * Runs the cases on the current backend, in order. The raw conv ceiling comes first, and each
 * other case's throughput is given as a percentage of it.
 */
export async function runCases(models: ModelStore, opts: RunCasesOptions): Promise<CaseResult[]> {
  const log = opts.log ?? (() => {});
  const only = new Set<CaseId>(opts.only ?? CASE_IDS);
  only.add('conv'); // the reference for every percentage
  const results: CaseResult[] = [];
  for (const c of benchCases()) {
    if (!only.has(c.id)) continue;
    log(`${c.label} …`);
    results.push(await runOne(c, models, opts.policy, log));
  }
  const raw = results.find((r) => r.id === 'conv' && r.status === 'ok')?.gmacPerS;
  if (raw) for (const r of results) if (r.gmacPerS !== undefined) r.pctOfRaw = (100 * r.gmacPerS) / raw;
  return results;
}
