/**
 * How many runs each environment gets. A full run wants ≥ 5 warm runs and 100 iterations per
 * loop for the leak check; slow backends (tfjs CPU, software WebGPU/WebGL adapters) get fewer,
 * and the report says so. Pure, shared by the Node CLI and the browser worker.
 */
import type { RunPolicy } from './runner';

/** Command-line overrides. */
export interface PolicyOverrides {
  /** `--quick`: a smoke run (2 warm runs, 5 iterations, 5 s per case). */
  quick?: boolean;
  /** `--reps`: minimum warm runs of every case. */
  reps?: number;
  /** `--iters`: iterations wanted for the leak check. */
  iterations?: number;
  /** `--budget`: seconds per case's warm loop. */
  budgetS?: number;
  /** `--full-size`: full work sizes on a software WebGPU adapter too. */
  fullSize?: boolean;
}

/**
 * What kind of engine runs the tensors: WASM or a hardware GPU; tfjs's CPU backend; WebGL on
 * a software renderer (SwiftShader, ~50× slower than WASM here); WebGPU on a software adapter
 * (SwiftShader, 400–700× slower than WASM here).
 */
export type EngineSpeed = 'fast' | 'cpu' | 'software-gl' | 'software-webgpu';

/** A policy with the sentence that explains it when it departs from the full default. */
export interface PolicyChoice {
  policy: RunPolicy;
  note?: string;
}

/** The iteration policy for an engine of `speed`, after overrides. */
export function choosePolicy(speed: EngineSpeed, o: PolicyOverrides = {}): PolicyChoice {
  let policy: RunPolicy;
  let note: string | undefined;
  const fast = speed === 'fast';
  // Slow engines skip the extra profiled run; the CLI copies the (backend-independent) count.
  const base = { profileMacs: fast, sizes: 'full' as 'full' | 'reduced' };
  if (speed === 'software-webgpu' && !o.fullSize) base.sizes = 'reduced';
  if (o.quick) {
    policy = { ...base, minRuns: 2, minTrainRuns: fast ? 2 : 1, iterations: 5, caseBudgetMs: 5_000 };
    note = `quick run: 2 warm runs${fast ? '' : ' (1 per training step)'}, ≤ 5 iterations per loop`;
  } else if (speed === 'cpu') {
    // tfjs's CPU backend is ~20× slower than WASM (docs/benchmarks.md): 100 iterations would take hours.
    policy = { ...base, minRuns: 5, minTrainRuns: 2, iterations: 10, caseBudgetMs: 60_000 };
    note = 'tfjs CPU backend (~20× slower than WASM): ≥ 5 warm runs (2 per training step), ≤ 10 iterations per loop';
  } else if (speed === 'software-gl') {
    policy = { ...base, minRuns: 2, minTrainRuns: 2, iterations: 3, caseBudgetMs: 20_000 };
    note = 'software WebGL renderer (SwiftShader, ~50× slower than WASM): 2 warm runs, ≤ 3 iterations per loop';
  } else if (speed === 'software-webgpu') {
    policy = { ...base, minRuns: 2, minTrainRuns: 2, iterations: 3, caseBudgetMs: 20_000 };
    note = 'software WebGPU adapter (SwiftShader, 400–700× slower than WASM here): 2 warm runs, ≤ 3 iterations per loop'
      + (base.sizes === 'reduced' ? ', reduced sizes (160×128 frames, 32² crops; --full-size for 640×480)' : '');
  } else {
    policy = { ...base, minRuns: 5, minTrainRuns: 5, iterations: 100, caseBudgetMs: 180_000 };
  }
  if (o.quick && base.sizes === 'reduced') note += ', reduced sizes (160×128 frames, 32² crops)';
  const overridden: string[] = [];
  if (o.reps !== undefined) {
    policy.minRuns = o.reps;
    policy.minTrainRuns = o.reps;
    overridden.push(`--reps ${o.reps}`);
  }
  if (o.iterations !== undefined) {
    policy.iterations = o.iterations;
    overridden.push(`--iters ${o.iterations}`);
  }
  if (o.budgetS !== undefined) {
    policy.caseBudgetMs = o.budgetS * 1000;
    overridden.push(`--budget ${o.budgetS}`);
  }
  if (overridden.length) note = [note, `overridden by ${overridden.join(' ')}`].filter(Boolean).join('; ');
  policy.iterations = Math.max(policy.iterations, policy.minRuns, policy.minTrainRuns);
  return { policy, note };
}
