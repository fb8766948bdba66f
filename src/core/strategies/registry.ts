/**
 * The fine-tuning strategies by name: what each needs and moves, its default options, and one
 * `createStrategy` for the worker and the CLI.
 */
import type { ModelName } from '../models/registry';
import { BDL_DEFAULTS, BDL_RULES, createBdl, type BdlOptions } from './bdl';
import { FIXED_DEFAULTS, FIXED_RULES, createFixed, type FixedOptions } from './fixed';
import { TD_DEFAULTS, TD_RULES, createTd, type TdOptions } from './td';
import type { Strategy, StrategyModels, StrategyName } from './types';

export type { Strategy, StrategyBatches, StrategyModels, StrategyName, StrategyStepLog } from './types';

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

/** Registry names in menu order. */
export const STRATEGY_NAMES: readonly StrategyName[] = ['fixed', 'bdl', 'td'];

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
  name: N, models: StrategyModels, options: Partial<StrategyOptionsMap[N]> = {},
): Strategy {
  switch (name) {
    case 'fixed': return createFixed(models, options as Partial<FixedOptions>);
    case 'bdl': return createBdl(models, options as Partial<BdlOptions>);
    case 'td': return createTd(models, options as Partial<TdOptions>);
    default: throw new Error(`unknown strategy '${String(name)}' (strategies: ${STRATEGY_NAMES.join(', ')})`);
  }
}
