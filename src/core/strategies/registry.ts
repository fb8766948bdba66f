/**
 * The fine-tuning strategies by name: what each needs and moves, its default options, and one
 * `createStrategy` for the worker and the CLI.
 */
import type { ModelName } from '../models/registry';
import { BDL_DEFAULTS, BDL_RULES, createBdl, type BdlOptions } from './bdl';
import { resolveOptions, type OptionValue } from './options';
import { FIXED_DEFAULTS, FIXED_RULES, createFixed, type FixedOptions } from './fixed';
import { TD_DEFAULTS, TD_RULES, createTd, type TdOptions } from './td';
import { CONSTANT_RATE, SPEC_DEFAULTS, STRATEGY_NAMES, type FinetuneSpec, type Strategy, type StrategyModels, type StrategyName, type StrategyPlan } from './types';

export type { FinetuneSpec, Strategy, StrategyBatches, StrategyModels, StrategyName, StrategyStepLog } from './types';
export { SPEC_DEFAULTS, STRATEGY_NAMES } from './types';

/** Options of each strategy, by name. */
export interface StrategyOptionsMap {
  fixed: FixedOptions;
  bdl: BdlOptions;
  td: TdOptions;
}

/** What the UI and the CLI show about a strategy. */
export interface StrategyInfo {
  name: StrategyName;
  /** Short label for menus. */
  label: string;
  /** One sentence on what it does. */
  description: string;
  /** Models that must be loaded. */
  requires: readonly ModelName[];
  /** Models it can move, depending on options (F always). */
  mayMove: readonly ModelName[];
  defaultOptions: Readonly<Record<string, number | string | boolean>>;
  /** Allowed values of string options. */
  choices: Readonly<Record<string, readonly string[]>>;
  /** Closed ranges of bounded numeric options (the rest: ≥ 0). */
  bounds: Readonly<Record<string, readonly [number, number]>>;
  /** Whether its steps take a held-out batch (bdl: upper level; td: meta batch). */
  usesHeldOut: boolean;
}

const rules = (r: { choices?: object; bounds?: object }) => ({
  choices: { ...(r.choices ?? {}) } as Record<string, readonly string[]>,
  bounds: { ...(r.bounds ?? {}) } as Record<string, readonly [number, number]>,
});

/** Static description of a strategy. @throws on an unknown name. */
export function strategyInfo(name: StrategyName): StrategyInfo {
  switch (name) {
    case 'fixed':
      return {
        name, label: 'Fixed weights',
        description: 'Fine-tunes F on a weighted sum of intensity, gradient, SSIM, adversarial and task losses (D and S frozen).',
        requires: ['fusion'], mayMove: ['fusion'], defaultOptions: FIXED_DEFAULTS, ...rules(FIXED_RULES), usesHeldOut: false,
      };
    case 'bdl':
      return {
        name, label: 'BDLFusion (bi-level)',
        description: 'F is the upper level; D and S\'s heads are lower-level learners. First-order hypergradients per task, combined by dynamic weighted aggregation.',
        requires: ['fusion', 'discriminator', 'segdet'], mayMove: ['fusion', 'discriminator', 'segdet'], defaultOptions: BDL_DEFAULTS,
        ...rules(BDL_RULES), usesHeldOut: true,
      };
    case 'td':
      return {
        name, label: 'TDFusion (learnable loss)',
        description: 'G learns per-pixel intensity-loss weights by a meta step through a virtual step of F (finite-difference hypergradient); F trains on that loss.',
        requires: ['fusion', 'lossGenerator', 'segdet'], mayMove: ['fusion', 'lossGenerator', 'segdet'], defaultOptions: TD_DEFAULTS,
        ...rules(TD_RULES), usesHeldOut: true,
      };
    default: {
      const never: never = name;
      throw new Error(`unknown strategy '${String(never)}' (strategies: ${STRATEGY_NAMES.join(', ')})`);
    }
  }
}

/** True when `s` names a strategy. */
export function isStrategyName(s: string): s is StrategyName {
  return (STRATEGY_NAMES as readonly string[]).includes(s);
}

/**
 * Creates a strategy over the given models. `options` may be partial (defaults fill the rest)
 * and arrive as plain data: unknown names and wrong types are rejected.
 * @throws on an unknown strategy, bad options, or a required model missing.
 */
export function createStrategy<N extends StrategyName>(
  name: N, models: StrategyModels, options: Partial<StrategyOptionsMap[N]> = {}, plan: StrategyPlan = CONSTANT_RATE,
): Strategy {
  switch (name) {
    case 'fixed': return createFixed(models, options as Partial<FixedOptions>, plan);
    case 'bdl': return createBdl(models, options as Partial<BdlOptions>, plan);
    case 'td': return createTd(models, options as Partial<TdOptions>, plan);
    default: throw new Error(`unknown strategy '${String(name)}' (strategies: ${STRATEGY_NAMES.join(', ')})`);
  }
}

function checkInteger(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new Error(`${name} must be a whole number ≥ ${min}, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * A fine-tune spec with every default filled in and every value checked (plain data arrives from
 * the page, the worker's messages and the command line): the strategy's options by its rules.
 * @throws naming what is wrong.
 */
export function resolveSpec(given: { strategy: string } & Partial<Omit<FinetuneSpec, 'strategy'>>): FinetuneSpec {
  const { strategy } = given;
  if (!isStrategyName(strategy)) throw new Error(`unknown strategy '${String(strategy)}' (strategies: ${STRATEGY_NAMES.join(', ')})`);
  const info = strategyInfo(strategy);
  const s = { ...SPEC_DEFAULTS, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
  const held = s.heldOutFraction;
  if (typeof held !== 'number' || !(held >= 0 && held < 1)) throw new Error(`the held-out share must be in [0, 1), got ${JSON.stringify(held)}`);
  return {
    strategy,
    options: resolveOptions(strategy, info.defaultOptions as Record<string, OptionValue>, given.options ?? {}, { choices: info.choices, bounds: info.bounds }),
    steps: checkInteger('steps', s.steps, 1),
    batch: checkInteger('batch', s.batch, 1),
    crop: checkInteger('crop', s.crop, 32),
    seed: checkInteger('seed', s.seed, 0),
    heldOutFraction: held,
  };
}
