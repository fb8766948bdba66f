/**
 * Time per fine-tuning step as measured on this device, kept per backend and work size, so the
 * Compute panel can say when WebGPU steps run slower here than WASM steps did (a GPU that waits
 * on tfjs's fixed cost per kernel can lose to the CPU) and offer the switch.
 */
import type { BackendName } from '../protocol/messages';

/** What a step's time depends on besides the backend. */
export interface StepWork {
  strategy: string;
  batch: number;
  crop: number;
}

/** One measurement: median ms per step of a fine-tune. */
export interface StepTime extends StepWork {
  backend: BackendName;
  msPerStep: number;
  at: number;
}

const KEY = 'fusion-playground.step-times';
const KEEP = 50;

const sameWork = (a: StepWork, b: StepWork) => a.strategy === b.strategy && a.batch === b.batch && a.crop === b.crop;

function load(storage: Pick<Storage, 'getItem'>): StepTime[] {
  try {
    const v = JSON.parse(storage.getItem(KEY) ?? '[]') as unknown;
    return Array.isArray(v)
      ? v.filter((t): t is StepTime => !!t && typeof t === 'object' && Number.isFinite((t as StepTime).msPerStep)
        && typeof (t as StepTime).backend === 'string' && typeof (t as StepTime).strategy === 'string')
      : [];
  } catch {
    return [];
  }
}

/** Keeps a fine-tune's step time (the newest per backend and work size replaces the older). */
export function recordStepTime(t: StepTime, storage: Pick<Storage, 'getItem' | 'setItem'> = localStorage): void {
  if (!Number.isFinite(t.msPerStep) || t.msPerStep <= 0) return;
  const kept = load(storage).filter((x) => !(x.backend === t.backend && sameWork(x, t)));
  try {
    storage.setItem(KEY, JSON.stringify([...kept, t].slice(-KEEP)));
  } catch { /* storage full or blocked: the hint is a nicety */ }
}

/**
 * The backend measured faster on this device for the same work, when the current one took over
 * 10 % longer per step; null when none was (or nothing to compare with).
 */
export function fasterBackend(
  current: { backend: BackendName; msPerStep: number } & StepWork, storage: Pick<Storage, 'getItem'> = localStorage,
): StepTime | null {
  if (!Number.isFinite(current.msPerStep)) return null;
  const others = load(storage).filter((t) => t.backend !== current.backend && sameWork(t, current));
  const best = others.sort((a, b) => a.msPerStep - b.msPerStep)[0];
  return best && current.msPerStep > best.msPerStep * 1.1 ? best : null;
}
