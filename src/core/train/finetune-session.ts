/**
 * One fine-tune session, driven the same way by the browser worker and the CLI: the held-out
 * split, option resolution (which models, the learning-rate schedule, DWA's window), seeded
 * crops for every step, the strategy's guarded steps (NaN rollback lives in the strategy's
 * `StepRunner`) and progress with an ETA. A driver only decodes pairs and loads models before,
 * and saves or posts after: so one seed gives one run, step for step, in Node and in the page.
 *
 * Pause and stop need nothing here: the session is an async generator, so a driver that stops
 * pulling pauses it, and one that leaves its `for await` loop ends it.
 */
import type { ModelName } from '../models/registry';
import { Rng, deriveSeed } from '../nn/random';
import { createStrategy, resolveSpec, strategyInfo, type FinetuneSpec, type StrategyOptionsMap } from '../strategies/registry';
import type { Strategy, StrategyBatches, StrategyModels, StrategyName, StrategyStepLog } from '../strategies/types';
import { resizeCropBatch, sampleCrops, type TrainPair } from './batch';
import { cropSideForScale } from './augment';

/** Below this many pairs nothing is held out: the held-out batch comes from the training pairs. */
export const MIN_PAIRS_TO_HOLD_OUT = 2;
/** DWA's window when one pass over the training pairs is shorter. */
export const MIN_DWA_WINDOW = 10;

/** Seeded split of pair indices into training and held-out ones. */
export function splitHeldOut(n: number, fraction: number, seed: number): { train: number[]; heldOut: number[] } {
  const idx = new Rng(deriveSeed(seed, 'held-out')).shuffle(Array.from({ length: n }, (_, i) => i));
  const k = n < MIN_PAIRS_TO_HOLD_OUT || fraction <= 0 ? 0 : Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
  return { heldOut: idx.slice(0, k).sort((a, b) => a - b), train: idx.slice(k).sort((a, b) => a - b) };
}

/** Whether the options switch task terms on (S needed, and labels or pseudo-labels). */
export function taskTermsOn(options: Record<string, unknown>): boolean {
  return Number(options.segmentation ?? 0) > 0 || Number(options.detection ?? 0) > 0;
}

/**
 * One step's crops for `strategy`: the training batch, the held-out batch when it uses one, and
 * the held-out pairs at its other scales (crops of side crop/s on the 16-px grid, resized to the
 * crop). Drawn in that order from `rng`.
 */
export function drawStepBatches(
  strategy: Pick<Strategy, 'usesHeldOut' | 'heldOutScales'>, pairs: TrainPair[],
  o: { batch: number; crop: number; train: number[]; heldOut: number[] }, rng: Rng,
): StrategyBatches {
  const size = { batch: o.batch, cropHeight: o.crop, cropWidth: o.crop };
  const train = sampleCrops(pairs, { ...size, indices: o.train }, rng);
  if (!strategy.usesHeldOut) return { train };
  const heldOut = sampleCrops(pairs, { ...size, indices: o.heldOut }, rng);
  if (!strategy.heldOutScales?.length) return { train, heldOut };
  const heldOutScaled = strategy.heldOutScales.map((s) => {
    const side = Math.max(o.crop, cropSideForScale(o.crop, s));
    const b = sampleCrops(pairs, { batch: o.batch, cropHeight: side, cropWidth: side, indices: o.heldOut }, rng);
    return resizeCropBatch(b, Math.round(b.height * s), Math.round(b.width * s));
  });
  return { train, heldOut, heldOutScaled };
}

/**
 * The models a session of `strategy` with `options` needs: what the strategy requires, D for
 * an adversarial term, S for task terms.
 */
export function modelsNeeded(strategy: StrategyName, options: Record<string, unknown>): ModelName[] {
  const info = strategyInfo(strategy);
  const o = { ...info.defaultOptions, ...options };
  const needed = new Set<ModelName>(info.requires);
  if (Number(o.adversarial ?? 0) > 0) needed.add('discriminator');
  if (taskTermsOn(o)) needed.add('segdet');
  return [...needed];
}

/** One finished step of a session. */
export interface SessionStep {
  step: number;
  total: number;
  log: StrategyStepLog;
  /** Seconds left at the recent step rate. */
  etaS: number;
}

/** A fine-tune over given models and pairs; see the module comment. */
export class FinetuneSession {
  readonly strategy: Strategy;
  /** Indices into the pairs. `heldOut` is empty when too few pairs (then drawn from `train`). */
  readonly split: { train: number[]; heldOut: number[] };
  /** Sentences for the person (what was held out). */
  readonly notes: string[] = [];
  /** The spec as run: every default filled in. */
  readonly spec: FinetuneSpec;
  #next = 1;

  /**
   * @param models the parameters to fine-tune (copies: the strategy moves them in place).
   * @param spec the fine-tune; checked and completed here (it may come as plain data).
   * @throws on a bad spec, a missing model or no pairs.
   */
  constructor(models: StrategyModels, readonly pairs: TrainPair[], spec: FinetuneSpec) {
    if (pairs.length === 0) throw new Error('no training pairs: choose at least one pair to train on');
    this.spec = resolveSpec(spec);
    const { strategy, steps, batch, seed } = this.spec;
    const usesHeldOut = strategyInfo(strategy).usesHeldOut;
    this.split = usesHeldOut
      ? splitHeldOut(pairs.length, this.spec.heldOutFraction, seed)
      : { train: pairs.map((_, i) => i), heldOut: [] };
    // DWA compares mean losses of whole passes over the training pairs (bdl's dwaWindow 0 = that).
    const window = strategy === 'bdl' && !this.spec.options.dwaWindow
      ? { dwaWindow: Math.max(MIN_DWA_WINDOW, Math.ceil(this.split.train.length / batch)) } : {};
    this.strategy = createStrategy(strategy, models, { ...this.spec.options, ...window } as Partial<StrategyOptionsMap[StrategyName]>, { totalSteps: steps });
    if (usesHeldOut) {
      const what = strategy === 'bdl' ? 'upper-level' : 'meta';
      this.notes.push(this.split.heldOut.length
        ? `${this.split.heldOut.length} of ${pairs.length} pairs held out for the ${what} batch.`
        : `Fewer than ${MIN_PAIRS_TO_HOLD_OUT} pairs: the ${what} batch is drawn from the training pairs.`);
    }
  }

  /** Steps taken so far. */
  get stepsDone(): number {
    return this.#next - 1;
  }

  /**
   * Runs the remaining steps, yielding after each. The crops of step s depend only on the
   * seed and s, so a session resumed by a new generator continues the same run.
   */
  async *run(): AsyncGenerator<SessionStep, void, undefined> {
    const { steps, batch, crop, seed } = this.spec;
    const heldOutIdx = this.split.heldOut.length > 0 ? this.split.heldOut : this.split.train;
    const recent: number[] = [];
    while (this.#next <= steps) {
      const step = this.#next;
      const rng = new Rng(deriveSeed(seed, step));
      const batches = drawStepBatches(this.strategy, this.pairs, { batch, crop, train: this.split.train, heldOut: heldOutIdx }, rng);
      const log = await this.strategy.step(batches);
      this.#next += 1;
      recent.push(log.ms);
      if (recent.length > 20) recent.shift();
      const ms = recent.reduce((a, b) => a + b, 0) / recent.length;
      yield { step, total: steps, log, etaS: ((steps - step) * ms) / 1000 };
    }
  }

  /** Frees the strategy's optimizer state (not the models). */
  dispose(): void {
    this.strategy.dispose();
  }
}
