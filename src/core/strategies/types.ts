/**
 * The one small interface every fine-tuning strategy implements (`fixed`, `bdl`, `td`), so the
 * browser worker and the CLI drive them the same way: create over the models' parameters, call
 * `step` once per optimisation step with plain-data crop batches, read a plain-data log, and
 * `dispose` at the end. Options and logs are JSON-serialisable (they cross the worker boundary
 * and are stored with runs).
 */
import type { Params } from '../types';
import type { ModelName } from '../models/registry';
import type { CropBatch } from '../train/batch';
import type { StepLog } from '../train/loop';

/** Registry name of a strategy. */
export type StrategyName = 'fixed' | 'bdl' | 'td';

/** Registry names in menu order. */
export const STRATEGY_NAMES: readonly StrategyName[] = ['fixed', 'bdl', 'td'];

/**
 * Parameters of the models a strategy works with. The strategy reads all of them and moves
 * (assigns new values to) only those it trains, see {@link Strategy.moves}; the caller owns the
 * variables and keeps them after `dispose`.
 */
export interface StrategyModels {
  /** F, θ: always trained. */
  fusion: Params;
  /** D: the visual module (adversarial term, BDLFusion's visual lower level). */
  discriminator?: Params;
  /** S: segmentation + detection on the fused image (task terms). */
  segdet?: Params;
  /** G, φ: TDFusion's loss generator. */
  lossGenerator?: Params;
}

/**
 * The crops of one step, from `sampleCrops` (train/batch.ts). Task terms read `label` and/or
 * `boxes`; a strategy with task terms throws when a batch has neither (pass pseudo-labels from
 * the pretrained S for unlabelled pairs). Crops are cut down to a multiple of the largest model
 * stride involved (32 with S, 16 with D, else 4) from the top-left; boxes are clipped with it.
 */
export interface StrategyBatches {
  /** Training batch: lower-level losses and (fixed, td) the fusion step. */
  train: CropBatch;
  /**
   * A batch from pairs held out of `train` (bdl: upper-level losses F_k; td: the task loss after
   * the virtual step, as TDFusion's outer loop uses the next batch). Defaults to `train`.
   */
  heldOut?: CropBatch;
  /**
   * The held-out pairs at other scales, one batch per entry of the strategy's `heldOutScales`:
   * crops of side `crop / s` resized to `crop`, so s < 1 shows more of the scene, smaller.
   */
  heldOutScaled?: CropBatch[];
}

/** What one strategy step reports; loss values are plain numbers. */
export interface StrategyStepLog extends StepLog {
  /**
   * True when a non-finite loss or gradient stopped the step: the parameters were set back to
   * the last good ones (see `note`) and the optimizer moments reset.
   */
  restored: boolean;
  /** A sentence for the user when something unusual happened (non-finite loss, rollback). */
  note?: string;
  /**
   * Non-loss numbers of the step, e.g. BDLFusion's task weights `w.visual` and coefficients
   * `c.visual`, TDFusion's FD radius `epsilon` or mean IR weight `meanWeightIR`.
   */
  stats: Record<string, number>;
}

/** Options every strategy has. Learning rates are Adam step sizes (β = 0.9, 0.999, ε = 1e-7). */
export interface CommonOptions {
  /** Learning rate of θ (F). */
  lr: number;
  /** Global gradient-norm clip per model (0 = off). */
  clipNorm: number;
}

/** The options every strategy has, at their defaults: the one place F's learning rate is set. */
export const COMMON_DEFAULTS: CommonOptions = { lr: 1e-4, clipNorm: 5 };

/** What a strategy is planned for (not an option: the fine-tune's length sets it). */
export interface StrategyPlan {
  /**
   * Planned number of steps: > 0 decays every learning rate by a cosine to 10 % at that step
   * (loop.ts `scheduledLr`); 0 keeps them constant.
   */
  totalSteps: number;
}

/** A strategy with no planned length: its learning rates stay constant. */
export const CONSTANT_RATE: StrategyPlan = { totalSteps: 0 };

/** Weights of the task terms on S's outputs (class-weighted segmentation CE, CenterNet loss). */
export interface TaskLossOptions {
  /** Weight of the segmentation cross-entropy (needs `label` in the batch). */
  segmentation: number;
  /** Weight of the CenterNet detection loss (needs `boxes` in the batch). */
  detection: number;
  /** Segmentation class weights: ENet weights of MSRS pixel shares, or all 1. */
  classWeights: 'msrs' | 'uniform';
}

/** A running fine-tuning strategy. */
export interface Strategy {
  readonly name: StrategyName;
  /** The options in force (defaults filled in). */
  readonly options: Readonly<Record<string, number | string | boolean>>;
  /** Models whose parameters `step` changes. All others are only read. */
  readonly moves: readonly ModelName[];
  /** Whether `step` uses `heldOut` (it falls back to `train` when absent). */
  readonly usesHeldOut: boolean;
  /** Scales at which `step` also wants the held-out pairs (`heldOutScaled`); none when absent. */
  readonly heldOutScales?: readonly number[];
  /** Steps taken so far (skipped ones included). */
  readonly stepCount: number;
  /**
   * One optimisation step. Never leaves tensors behind. On a non-finite loss or gradient it
   * moves nothing, restores the last good parameters and says so in the log.
   */
  step(batches: StrategyBatches): Promise<StrategyStepLog>;
  /** Frees optimizer state and snapshots (not the models' parameters). */
  dispose(): void;
}

/**
 * One fine-tune, whole: what the form holds, the protocol carries, the CLI builds from its flags,
 * the session runs and a run keeps. F's learning rate is the strategy's option `lr`.
 */
export interface FinetuneSpec {
  strategy: StrategyName;
  /** The strategy's options (loss weights, learning rates, η, ...); complete once resolved. */
  options: Record<string, number | string | boolean>;
  steps: number;
  batch: number;
  /** Square crop side in pixels. */
  crop: number;
  seed: number;
  /** Share of the pairs held out for the upper-level (bdl) or meta (td) batch. */
  heldOutFraction: number;
}

/** Defaults of a fine-tune's own settings (each strategy's options default in its module). */
export const SPEC_DEFAULTS = { steps: 200, batch: 4, crop: 128, seed: 1, heldOutFraction: 0.2 } as const;
