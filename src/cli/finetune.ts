/**
 * `npm run finetune -- --strategy fixed|bdl|td [--data ../shared/data] [--steps N] [--out DIR] ...`
 *
 * Fine-tunes the pretrained F on random crops of `msrs/train` with one strategy of
 * `core/strategies` (seeded; progress with ETA; loss weights and other strategy options via
 * `--opt name=value`), saves the run to `--out` (`fusion/` in the tfjs weights format with a
 * card, any other model the strategy moved, `history.json` with every step's losses), then
 * scores the fine-tuned F and the pretrained F on `msrs/test` with the same frozen S through
 * the fuse CLI's evaluation (`runFuse`: nine fusion metrics, mIoU, mAP@0.5) and prints a
 * comparison table (also `comparison.json`).
 *
 * Strategies with a held-out batch (bdl, td) draw it from a seeded `--held-out` fraction of the
 * training pairs, never from `msrs/test`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { numberOption, optionAssignments, readCommandLine } from './args';
import { useBackend } from './node-backend';
import { loadSplit } from './dataset';
import { loadModelFrom, saveModelFolder } from './weights-fs';
import { DEFAULT_MODELS_DIR, runFuse, type FuseSummary } from './fuse';
import { MODELS, type ModelName } from '../core/models/registry';
import { disposeParams } from '../core/models/model-def';
import { FinetuneSession, modelsNeeded, taskTermsOn } from '../core/train/finetune-session';
import { prepareTrainPairs, TRAIN_MAX_SIDE } from '../core/train/pairs';
import { adaptTaskHeads, ADAPT_DEFAULTS } from '../core/train/adapt-task';
import { createPipeline } from '../core/pipeline';
import { isStrategyName, resolveSpec, SPEC_DEFAULTS, strategyInfo, STRATEGY_NAMES, type FinetuneSpec } from '../core/strategies/registry';
import type { StrategyModels, StrategyName, StrategyStepLog } from '../core/strategies/types';
import { FUSION_METRIC_NAMES, type FusionMetrics, type Params } from '../core/types';

/** Options of {@link runFinetune} (the parsed command line). */
export interface FinetuneOptions {
  /** The fine-tune (its options may be partial: the core fills in and checks the rest). */
  spec: FinetuneSpec;
  /** Data root with `msrs/train` and `msrs/test` (default `../shared/data`). */
  data: string;
  /** Training split folder (ir/, vi/, label/, detection.json); default `<data>/msrs/train`. */
  train?: string;
  /** Evaluation split folder; default `<data>/msrs/test`. */
  test?: string;
  /** Folder of the pretrained models (default `<repo>/models`). */
  models?: string;
  /** Run folder written. */
  out: string;
  backend: 'wasm' | 'cpu';
  /** Use only the first N training pairs. */
  limit?: number;
  /** Evaluate on the test split (default true). */
  evaluate: boolean;
  /** Evaluate on the first N test pairs only. */
  evalLimit?: number;
  /** Longest side at evaluation (default: full size). */
  evalMaxSide?: number;
  /** K > 0: also score with S's heads adapted K steps to each F's fused images (see core/train/adapt-task.ts). */
  adaptTask?: number;
  log?: (line: string) => void;
}

/** One row of the comparison table. */
export interface EvalRow {
  model: 'pretrained' | 'fine-tuned';
  metrics: FusionMetrics | null;
  /** mIoU in [0,1] (null without labels). */
  mIoU: number | null;
  /** mAP@0.5 in [0,1] (null without boxes). */
  mAP50: number | null;
}

/** What {@link runFinetune} did. */
export interface FinetuneSummary {
  logs: StrategyStepLog[];
  /** Folders written under `out`. */
  saved: string[];
  evaluation: EvalRow[] | null;
  /** mIoU and mAP@0.5 with S adapted to each F (`--adapt-task K`). */
  adapted?: Record<string, { mIoU: number | null; mAP50: number | null }>;
}

const USAGE = `usage: npm run finetune -- --strategy ${STRATEGY_NAMES.join('|')} [--data ../shared/data] [--out DIR]
       [--steps ${SPEC_DEFAULTS.steps}] [--batch ${SPEC_DEFAULTS.batch}] [--crop ${SPEC_DEFAULTS.crop}] [--lr F's learning rate] [--seed ${SPEC_DEFAULTS.seed}] [--held-out ${SPEC_DEFAULTS.heldOutFraction}] [--limit N]
       [--opt name=value ...] [--models DIR] [--train DIR] [--test DIR] [--backend wasm|cpu]
       [--no-eval] [--eval-limit N] [--eval-max-side N] [--adapt-task K]
  --opt sets a strategy option, e.g. --opt segmentation=0.5 --opt eta=1 --opt trainS=true (--lr X is --opt lr=X)
  --adapt-task K also scores with S's heads adapted K steps to each F's fused images of the
    labelled training pairs (the same seed and crops for every F), as the papers score
  --compare runs the strategies side by side and scores them (see --compare --help)
  (options and defaults: fixed ${optionList('fixed')}
                         bdl ${optionList('bdl')}
                         td ${optionList('td')})`;

function optionList(name: StrategyName): string {
  return Object.entries(strategyInfo(name).defaultOptions).map(([k, v]) => `${k}=${String(v)}`).join(' ');
}

function fmtDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

function evalRow(model: EvalRow['model'], s: FuseSummary): EvalRow {
  return {
    model,
    metrics: s.meanMetrics,
    mIoU: s.task?.segmentation?.mIoU ?? null,
    mAP50: s.task?.detection?.mAP50 ?? null,
  };
}

/** The comparison table as text: one row per model, a row of differences, a row of relative changes. */
export function comparisonTable(rows: EvalRow[]): string {
  const cols = [...FUSION_METRIC_NAMES, 'mIoU', 'mAP50'] as const;
  const value = (r: EvalRow, c: (typeof cols)[number]): number | null =>
    c === 'mIoU' ? (r.mIoU === null ? null : 100 * r.mIoU) : c === 'mAP50' ? (r.mAP50 === null ? null : 100 * r.mAP50) : r.metrics?.[c] ?? null;
  const cell = (v: number | null, d = 4) => (v === null || !Number.isFinite(v) ? '-' : v.toFixed(d));
  const lines = [['model', ...cols].map((c) => c.padStart(11)).join(' ')];
  for (const r of rows) lines.push([r.model, ...cols.map((c) => cell(value(r, c)))].map((c) => c.padStart(11)).join(' '));
  const [a, b] = [rows.find((r) => r.model === 'pretrained'), rows.find((r) => r.model === 'fine-tuned')];
  if (a && b) {
    const diff = cols.map((c) => { const x = value(a, c), y = value(b, c); return x === null || y === null ? null : y - x; });
    const rel = cols.map((c) => { const x = value(a, c), y = value(b, c); return x === null || y === null || x === 0 ? null : (100 * (y - x)) / Math.abs(x); });
    lines.push(['change', ...diff.map((v) => cell(v))].map((c) => c.padStart(11)).join(' '));
    lines.push(['change %', ...rel.map((v) => (v === null ? '-' : `${v.toFixed(2)}%`))].map((c) => c.padStart(11)).join(' '));
  }
  return lines.join('\n');
}

/**
 * The issue's goal, checked: mIoU up by ≥ 1.5 points with VIF and Qabf within 5 % of the
 * pretrained F. Returns a sentence.
 */
export function goalCheck(rows: EvalRow[]): string {
  const a = rows.find((r) => r.model === 'pretrained');
  const b = rows.find((r) => r.model === 'fine-tuned');
  if (!a || !b || a.mIoU === null || b.mIoU === null || !a.metrics || !b.metrics) return 'goal check: not enough scores (labels and metrics needed)';
  const dIoU = 100 * (b.mIoU - a.mIoU);
  const rel = (k: 'VIF' | 'Qabf') => (100 * (b.metrics![k] - a.metrics![k])) / Math.abs(a.metrics![k]);
  const ok = dIoU >= 1.5 && Math.abs(rel('VIF')) <= 5 && Math.abs(rel('Qabf')) <= 5;
  return `goal (+1.5 mIoU points, VIF and Qabf within 5 %): ${ok ? 'MET' : 'not met'} — mIoU ${dIoU >= 0 ? '+' : ''}${dIoU.toFixed(2)} points, ` +
    `VIF ${rel('VIF').toFixed(2)} %, Qabf ${rel('Qabf').toFixed(2)} %`;
}

/** Runs the whole command. @throws on fatal problems (no data, no weights, bad options). */
export async function runFinetune(o: FinetuneOptions): Promise<FinetuneSummary> {
  const log = o.log ?? ((s: string) => console.log(s));
  await useBackend(o.backend);
  const spec = resolveSpec(o.spec);
  const info = strategyInfo(spec.strategy);
  const modelsDir = o.models ?? DEFAULT_MODELS_DIR;
  const trainDir = o.train ?? path.join(o.data, 'msrs', 'train');
  const testDir = o.test ?? path.join(o.data, 'msrs', 'test');
  if (!existsSync(path.join(trainDir, 'ir'))) throw new Error(`no training pairs at ${trainDir} (expected ir/, vi/, label/, detection.json)`);
  if (o.evaluate && !existsSync(path.join(testDir, 'ir'))) throw new Error(`no test pairs at ${testDir}`);

  // Models: every one the session needs, and S always (the pretrained S scores every F).
  const needed = new Set<ModelName>(['fusion', ...modelsNeeded(spec.strategy, spec.options), 'segdet']);
  const loaded: Partial<Record<ModelName, Params>> = {};
  let scoringS: Params | null = null;
  let pretrainedF: Params | null = null;
  const disposeAll = () => {
    for (const p of [...Object.values(loaded), scoringS, pretrainedF]) if (p) disposeParams(p);
  };
  try {
    for (const name of needed) loaded[name] = await loadModelFrom(modelsDir, name);
    log(`models from ${modelsDir}: ${Object.keys(loaded).join(', ')}`);

    log(`loading ${trainDir} ...`);
    const read = await loadSplit(trainDir, { limit: o.limit });
    if (read.length === 0) throw new Error(`no pairs in ${trainDir}`);
    // Unlabelled pairs get pseudo-labels from the pretrained F and S, as in the page.
    const pretrained = createPipeline({ fusion: loaded.fusion!, segdet: loaded.segdet });
    const { pairs, labelSources, notes } = await prepareTrainPairs(read, {
      taskOn: taskTermsOn(spec.options), pseudoLabel: (ir, vi) => pretrained.run(ir, vi, { maxSide: TRAIN_MAX_SIDE }),
    });
    for (const n of notes) log(n);
    const models: StrategyModels = {
      fusion: loaded.fusion!, discriminator: loaded.discriminator, segdet: loaded.segdet, lossGenerator: loaded.lossGenerator,
    };
    const session = new FinetuneSession(models, pairs, spec);
    const { strategy, split } = session;
    log(`${spec.strategy}: ${info.label}; moves ${strategy.moves.join(', ')}; ${split.train.length} training pairs` +
      (strategy.usesHeldOut ? `, ${split.heldOut.length} held out${split.heldOut.length ? '' : ' (too few pairs: the held-out batch comes from the training pairs)'}` : '') +
      `; backend ${tf.getBackend()}; seed ${spec.seed}`);
    log(`options: ${Object.entries(strategy.options).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`);

    // Fine-tune.
    const logs: StrategyStepLog[] = [];
    const t0 = performance.now();
    let lastPrint = 0;
    try {
      for await (const { step, log: l, etaS } of session.run()) {
        logs.push(l);
        if (l.note) log(`[${spec.strategy}] ${l.note}`);
        const now = performance.now();
        if (now - lastPrint >= 2000 || step === spec.steps) {
          lastPrint = now;
          const recent = logs.slice(-20);
          const ms = recent.reduce((a, b) => a + b.ms, 0) / recent.length;
          const terms = Object.entries(l.terms).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' ');
          const stats = Object.entries(l.stats).map(([k, v]) => `${k} ${v.toPrecision(3)}`).join(' ');
          log(`[${spec.strategy}] ${step}/${spec.steps} (${((100 * step) / spec.steps).toFixed(1)}%) loss ${l.total.toFixed(4)} | ${terms}` +
            `${stats ? ` | ${stats}` : ''} | ${ms.toFixed(0)} ms/step | ETA ${fmtDuration(etaS)}`);
        }
      }
    } finally {
      session.dispose();
    }
    const seconds = (performance.now() - t0) / 1000;
    const skipped = logs.filter((l) => l.skipped).length;

    // Save the run.
    await mkdir(o.out, { recursive: true });
    const saved: string[] = [];
    const run = {
      spec: session.spec, backend: tf.getBackend(), labelSources, seconds: Math.round(seconds), skippedSteps: skipped,
      data: { train: trainDir, pairs: pairs.length, trainPairs: split.train.map((i) => pairs[i].stem), heldOutPairs: split.heldOut.map((i) => pairs[i].stem) },
      pretrained: modelsDir,
    };
    for (const name of strategy.moves) {
      const dir = path.join(o.out, MODELS[name].name);
      const last = logs[logs.length - 1];
      await saveModelFolder(dir, loaded[name]!, {
        card: {
          name: MODELS[name].name, fineTuned: { ...run, finalLoss: last ? { total: last.total, ...last.terms } : null },
          parameters: MODELS[name].paramCount(loaded[name]!), date: new Date().toISOString(),
        },
      });
      saved.push(dir);
    }
    await writeFile(path.join(o.out, 'history.json'), JSON.stringify({ ...run, logs }, null, 1) + '\n');
    log(`saved ${saved.join(', ')} and ${path.join(o.out, 'history.json')} (${fmtDuration(seconds)}, ${skipped} skipped step${skipped === 1 ? '' : 's'})`);

    if (!o.evaluate) return { logs, saved, evaluation: null };

    // Evaluate pretrained and fine-tuned F with the same pretrained S: read again only when the
    // strategy moved the copy it trained (bdl's heads).
    pretrainedF = await loadModelFrom(modelsDir, 'fusion');
    if (strategy.moves.includes('segdet')) scoringS = await loadModelFrom(modelsDir, 'segdet');
    const pretrainedS = scoringS ?? loaded.segdet!;
    const score = async (which: string, fParams: Params, sParams: Params, dir: string) => {
      log(`evaluating the ${which} F on ${testDir} ...`);
      const boxes = path.join(testDir, 'detection.json');
      return runFuse({
        ir: path.join(testDir, 'ir'), vi: path.join(testDir, 'vi'),
        labels: existsSync(path.join(testDir, 'label')) ? path.join(testDir, 'label') : undefined,
        boxes: existsSync(boxes) ? boxes : undefined,
        out: path.join(o.out, 'eval', dir), loaded: { fusion: fParams, segdet: sParams }, backend: o.backend,
        limit: o.evalLimit, maxSide: o.evalMaxSide,
        log: (line) => log(`  [${which}] ${line}`),
      });
    };
    const scored = [['pretrained', pretrainedF], ['fine-tuned', loaded.fusion!]] as const;
    const rows: EvalRow[] = [];
    for (const [which, fParams] of scored) rows.push(evalRow(which, await score(which, fParams, pretrainedS, which === 'pretrained' ? 'pretrained' : 'finetuned')));
    const table = comparisonTable(rows);
    const goal = goalCheck(rows);
    log(`\n${spec.strategy} after ${spec.steps} steps vs the pretrained F, frozen S, on ${testDir} (mIoU and mAP50 in %):\n${table}\n${goal}`);

    // Task-adapted scoring: S's heads trained K steps on each F's own fused images of the
    // labelled training pairs (the same seed and crops for both), then scored.
    let adapted: Record<string, { mIoU: number | null; mAP50: number | null }> | undefined;
    if (o.adaptTask) {
      adapted = {};
      const labelled = pairs.filter((p) => labelSources[p.stem] === 'label');
      const adaptRows: EvalRow[] = [];
      for (const [which, fParams] of scored) {
        log(`adapting S's heads to the ${which} F: ${o.adaptTask} steps on ${labelled.length} labelled training pairs ...`);
        const s = await adaptTaskHeads(fParams, pretrainedS, labelled, { ...ADAPT_DEFAULTS, steps: o.adaptTask });
        try {
          const row = evalRow(which, await score(`${which}, adapted S`, fParams, s, `${which === 'pretrained' ? 'pretrained' : 'finetuned'}-adapted`));
          adaptRows.push(row);
          adapted[which] = { mIoU: row.mIoU, mAP50: row.mAP50 };
        } finally {
          disposeParams(s);
        }
      }
      // A bdl run trained S's heads as its lower level: they may score its F too.
      if (strategy.moves.includes('segdet')) {
        const own = evalRow('fine-tuned', await score('fine-tuned, its own S heads', loaded.fusion!, loaded.segdet!, 'finetuned-own-heads'));
        adapted['fine-tuned, own heads'] = { mIoU: own.mIoU, mAP50: own.mAP50 };
      }
      log(`\nthe same with S adapted to each F (${o.adaptTask} steps of its heads):\n${comparisonTable(adaptRows)}\n${goalCheck(adaptRows)}`);
    }
    await writeFile(path.join(o.out, 'comparison.json'), JSON.stringify({ ...run, test: testDir, rows, goal, ...(adapted ? { adapted, adaptTask: { ...ADAPT_DEFAULTS, steps: o.adaptTask } } : {}) }, null, 2) + '\n');
    return { logs, saved, evaluation: rows, ...(adapted ? { adapted } : {}) };
  } finally {
    disposeAll();
  }
}

/** Parses the command line; returns null (after printing why) when it is unusable. */
export function parseFinetuneArgs(argv: string[]): FinetuneOptions | null {
  return readCommandLine(argv, {
    strategy: { type: 'string' }, data: { type: 'string', default: '../shared/data' },
    train: { type: 'string' }, test: { type: 'string' }, models: { type: 'string' }, out: { type: 'string' },
    steps: { type: 'string' }, batch: { type: 'string' }, crop: { type: 'string' },
    lr: { type: 'string' }, seed: { type: 'string' }, backend: { type: 'string', default: 'wasm' },
    limit: { type: 'string' }, 'held-out': { type: 'string' },
    opt: { type: 'string', multiple: true, default: [] },
    'no-eval': { type: 'boolean' }, 'eval-limit': { type: 'string' }, 'eval-max-side': { type: 'string' }, 'adapt-task': { type: 'string' },
  }, USAGE, (v) => {
    if (!v.strategy || !isStrategyName(v.strategy)) {
      throw new Error(`--strategy must be one of ${STRATEGY_NAMES.join(', ')}${v.strategy ? `, got ${v.strategy}` : ''}\n${USAGE}`);
    }
    if (v.backend !== 'wasm' && v.backend !== 'cpu') throw new Error(`--backend must be wasm or cpu, got ${v.backend}`);
    const num = numberOption;
    const strategyOptions = optionAssignments(v.opt, '--opt');
    if (v.lr !== undefined) strategyOptions.lr = num(v.lr, 'lr')!;
    const spec = resolveSpec({
      strategy: v.strategy, options: strategyOptions, steps: num(v.steps, 'steps', { int: true, min: 1 }), batch: num(v.batch, 'batch', { int: true, min: 1 }),
      crop: num(v.crop, 'crop', { int: true, min: 32 }), seed: num(v.seed, 'seed', { int: true, min: 0 }), heldOutFraction: num(v['held-out'], 'held-out', { min: 0 }),
    });
    return {
      spec, data: v.data, train: v.train, test: v.test, models: v.models,
      out: v.out ?? path.join('runs', `${spec.strategy}-seed${spec.seed}`),
      backend: v.backend, limit: num(v.limit, 'limit', { int: true, min: 1 }),
      evaluate: !v['no-eval'], evalLimit: num(v['eval-limit'], 'eval-limit', { int: true, min: 1 }),
      evalMaxSide: num(v['eval-max-side'], 'eval-max-side', { int: true, min: 32 }),
      adaptTask: num(v['adapt-task'], 'adapt-task', { int: true, min: 1 }),
    };
  });
}
