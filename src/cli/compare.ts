/**
 * `npm run finetune -- --compare`: the papers' claim, measured. Fine-tunes the pretrained F
 * with each arm (fusion terms only, fixed fusion + task terms, bdl, td) at equal steps for
 * every seed, scores every F on the whole test split with the same pretrained S, and reports
 * ΔmIoU, ΔmAP@0.5 and the fusion metrics against the pretrained F and against the fusion-only
 * arm, each with a paired 95 % bootstrap interval over test pairs (seeds averaged inside each
 * resample) and the per-seed values. Writes `compare.json`, `compare.md` and `compare.svg`
 * (loss curves, bdl's task weights, Δ per arm).
 *
 * Resumable: a run folder whose history has the planned steps is not trained again, and an
 * evaluation already saved is not redone.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { numberOption, optionAssignments, readCommandLine } from './args';
import { runFinetune } from './finetune';
import { DEFAULT_MODELS_DIR, runFuse } from './fuse';
import { loadModelFrom } from './weights-fs';
import { useBackend } from './node-backend';
import { holdOutBlocks, loadSplit, pairFileNames, VALIDATION_SHARE, type DetectionFile } from './dataset';
import { prepareTrainPairs } from '../core/train/pairs';
import { adaptTaskHeads, ADAPT_DEFAULTS } from '../core/train/adapt-task';
import type { Params } from '../core/types';
import { disposeParams } from '../core/models/model-def';
import { bootstrapIntervals, type Interval } from '../core/metrics/bootstrap';
import { evaluationsFromJson, evaluationsToJson, scoreSet, type PairEvaluation } from '../core/metrics/evaluation';
import { FUSION_METRIC_NAMES } from '../core/types';
import { pairsFigure } from './pairs-figure';

type FusionMetricName = (typeof FUSION_METRIC_NAMES)[number];
import { STRATEGY_NAMES, type StrategyName } from '../core/strategies/types';
import { resolveSpec, type FinetuneSpec } from '../core/strategies/registry';

/** A compared fine-tune: a strategy and the options that differ from its defaults. */
export interface ArmDef {
  strategy: StrategyName;
  options: Record<string, number | string | boolean>;
  label: string;
}

/** The compared fine-tunes. */
export const ARMS = {
  'fusion-only': { strategy: 'fixed', options: { segmentation: 0, detection: 0 }, label: 'fixed, fusion terms only' },
  'fixed-task': { strategy: 'fixed', options: {}, label: 'fixed, fusion + task terms (0.1 each)' },
  bdl: { strategy: 'bdl', options: {}, label: 'bdl (BDLFusion), defaults' },
  td: { strategy: 'td', options: {}, label: 'td (TDFusion), defaults' },
} as const satisfies Record<string, ArmDef>;
export type ArmName = keyof typeof ARMS;
export const ARM_NAMES = Object.keys(ARMS) as ArmName[];

export interface CompareOptions {
  data: string;
  train?: string;
  test?: string;
  models?: string;
  out: string;
  /** Arms to run, by name: those of ARMS and of `variants`. */
  arms: string[];
  /** More arms, by name (`--variant NAME=STRATEGY:opt=value:...`): a strategy's options to try against the others. */
  variants?: Record<string, ArmDef>;
  /**
   * Choose on the training split, never reading the test split: fine-tune on four fifths of
   * `msrs/train` and score the held-out fifth (whole 5-frame blocks, seed 1: the split of
   * `--choose-adapt-k`).
   */
  validate?: boolean;
  seeds: number[];
  steps: number;
  batch: number;
  crop: number;
  /** F's learning rate in every arm (default: the strategies' own, 1e-4). */
  lr?: number;
  backend: 'wasm' | 'cpu';
  heldOut: number;
  limit?: number;
  evalLimit?: number;
  evalMaxSide?: number;
  /** Bootstrap resamples (default 1000). */
  resamples?: number;
  /** K > 0: also score every F (the pretrained one included) with S's heads adapted K steps to its fused images. */
  adaptTask?: number;
  log?: (line: string) => void;
}

/** Scores of a set (or a resample of it). */
interface SetScores {
  mIoU: number;
  mAP50: number;
  metrics: Record<FusionMetricName, number>;
}

/** One model's evaluation: its per-pair shares. */
type Evaluation = PairEvaluation[];

function scoreSubset(ev: Evaluation, idx: number[]): SetScores {
  const s = scoreSet(ev, idx);
  return {
    mIoU: s.segmentation?.mIoU ?? NaN,
    mAP50: s.detection?.mAP50 ?? NaN,
    metrics: (s.meanMetrics ?? Object.fromEntries(FUSION_METRIC_NAMES.map((n) => [n, NaN]))) as Record<FusionMetricName, number>,
  };
}

/** What the report says of one arm. */
export interface ArmReport {
  arm: string;
  strategy: StrategyName;
  label: string;
  seeds: number[];
  /** Per seed: the set's scores. */
  perSeed: SetScores[];
  /** Seed-averaged Δ against the pretrained F and against the fusion-only arm (mIoU, mAP in points). */
  vsPretrained: Record<'mIoU' | 'mAP50' | FusionMetricName, Interval>;
  vsFusionOnly: Record<'mIoU' | 'mAP50' | FusionMetricName, Interval> | null;
  /** VIF and Qabf relative to the fusion-only arm, in % (the goal's "within 5 %"). */
  relativeToFusionOnly: { VIF: number; Qabf: number } | null;
  /** VIF and Qabf relative to the pretrained F, in % (the goal's bound). */
  relativeToPretrained: { VIF: number; Qabf: number };
  secondsPerStep: number;
  /** The same scores with S's heads adapted to each F (`--adapt-task K`): Δ against the pretrained F's own adapted S. */
  adapted?: Pick<ArmReport, 'perSeed' | 'vsPretrained' | 'vsFusionOnly' | 'relativeToFusionOnly' | 'relativeToPretrained'>;
}

const KEYS = ['mIoU', 'mAP50', ...FUSION_METRIC_NAMES] as const;
type Key = (typeof KEYS)[number];
const valueOf = (s: SetScores, k: Key) => (k === 'mIoU' ? 100 * s.mIoU : k === 'mAP50' ? 100 * s.mAP50 : s.metrics[k]);

/** Paired bootstrap of Δ = mean over seeds of score(arm, seed) − score(base), per key. */
function deltas(arm: Evaluation[], base: Evaluation[], resamples: number): Record<Key, Interval> {
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const iv = bootstrapIntervals(base[0].length, (idx) => {
    const a = arm.map((e) => scoreSubset(e, idx));
    const b = base.map((e) => scoreSubset(e, idx));
    return KEYS.map((k) => avg(a.map((s) => valueOf(s, k))) - avg(b.map((s) => valueOf(s, k))));
  }, { resamples, seed: 11 });
  return Object.fromEntries(KEYS.map((k, i) => [k, iv[i]])) as Record<Key, Interval>;
}

/** Mean seconds per step of a run's logs (the steps alone, as a fresh and a resumed comparison both read them). */
const stepSeconds = (logs: readonly { ms: number }[]) => logs.reduce((a, l) => a + l.ms, 0) / 1000 / logs.length;

/** An arm's definition: a built-in arm or a variant. @throws on an unknown name. */
function armDef(o: Pick<CompareOptions, 'variants'>, arm: string): ArmDef {
  const d = o.variants?.[arm] ?? (arm in ARMS ? ARMS[arm as ArmName] : undefined);
  if (!d) throw new Error(`unknown arm '${arm}' (arms: ${[...ARM_NAMES, ...Object.keys(o.variants ?? {})].join(', ')})`);
  return d;
}

/**
 * Writes the training split cut in two as split folders of links (`fit/` and `held-out/`, each
 * with ir/, vi/, label/ and its share of detection.json): the held-out fifth is whole 5-frame
 * blocks (seed 1), the split `--choose-adapt-k` chooses K on.
 */
export async function writeValidationSplit(trainDir: string, outDir: string): Promise<{ trainDir: string; testDir: string }> {
  const byStem = new Map((await pairFileNames(trainDir)).map((f) => [path.parse(f).name, f]));
  const { train, validation } = holdOutBlocks([...byStem.keys()], VALIDATION_SHARE, 1);
  const detFile = path.join(trainDir, 'detection.json');
  const det = existsSync(detFile) ? JSON.parse(await readFile(detFile, 'utf8')) as DetectionFile : null;
  const dirs = { trainDir: path.join(outDir, 'fit'), testDir: path.join(outDir, 'held-out') };
  for (const [dir, part] of [[dirs.trainDir, train], [dirs.testDir, validation]] as const) {
    await rm(dir, { recursive: true, force: true });
    const keep = new Set(part.map((s) => byStem.get(s)!));
    for (const sub of ['ir', 'vi', 'label']) {
      if (!existsSync(path.join(trainDir, sub))) continue;
      await mkdir(path.join(dir, sub), { recursive: true });
      for (const f of keep) {
        if (existsSync(path.join(trainDir, sub, f))) await symlink(path.resolve(trainDir, sub, f), path.join(dir, sub, f));
      }
    }
    if (det) {
      const part = { ...det, images: det.images.filter((im) => keep.has(im.file) || keep.has(path.basename(im.file))) };
      await writeFile(path.join(dir, 'detection.json'), JSON.stringify(part));
    }
  }
  return dirs;
}

/** Runs the comparison; see the module comment. */
export async function runCompare(o: CompareOptions): Promise<ArmReport[]> {
  const log = o.log ?? ((s: string) => console.log(s));
  // Every run may be trained already (a resumed comparison): the backend is not left to them.
  await useBackend(o.backend);
  const modelsDir = o.models ?? DEFAULT_MODELS_DIR;
  const resamples = o.resamples ?? 1000;
  await mkdir(o.out, { recursive: true });
  const { trainDir, testDir } = o.validate
    ? await writeValidationSplit(o.train ?? path.join(o.data, 'msrs', 'train'), path.join(o.out, 'split'))
    : { trainDir: o.train ?? path.join(o.data, 'msrs', 'train'), testDir: o.test ?? path.join(o.data, 'msrs', 'test') };
  if (o.validate) log(`[compare] validating on the training split: fine-tunes on ${trainDir}, scores on ${testDir}`);
  const runDir = (arm: string, seed: number) => path.join(o.out, `${arm}-seed${seed}`);

  // 1. Fine-tune every arm for every seed (skipping finished runs).
  const secondsPerStep: Record<string, number[]> = {};
  for (const seed of o.seeds) {
    for (const arm of o.arms) {
      const dir = runDir(arm, seed);
      const histFile = path.join(dir, 'history.json');
      if (existsSync(histFile)) {
        const h = JSON.parse(await readFile(histFile, 'utf8'));
        // A history from before runs kept their spec lists its steps beside it.
        if ((h.spec?.steps ?? h.steps) === o.steps && h.logs?.length === o.steps) {
          log(`[compare] ${arm} seed ${seed}: already trained (${dir})`);
          (secondsPerStep[arm] ??= []).push(stepSeconds(h.logs));
          continue;
        }
      }
      log(`[compare] ${arm} seed ${seed}: fine-tuning ${o.steps} steps ...`);
      const { strategy, options } = armDef(o, arm);
      const spec: FinetuneSpec = {
        strategy, options: { ...options, ...(o.lr !== undefined ? { lr: o.lr } : {}) }, steps: o.steps, batch: o.batch, crop: o.crop, seed, heldOutFraction: o.heldOut,
      };
      const s = await runFinetune({
        spec, data: o.data, train: trainDir, models: modelsDir, out: dir, backend: o.backend, limit: o.limit,
        evaluate: false, log: (l) => log(`  ${l}`),
      });
      (secondsPerStep[arm] ??= []).push(stepSeconds(s.logs));
    }
  }

  // 2. Score the pretrained F and every fine-tuned F with the pretrained S (and, with
  // --adapt-task, with S's heads adapted to that F's fused images of the labelled training pairs).
  const scoringS = await loadModelFrom(modelsDir, 'segdet');
  const adaptPairs = o.adaptTask
    ? (await prepareTrainPairs(await loadSplit(trainDir, { limit: o.limit }), { taskOn: false })).pairs.filter((p) => p.label)
    : [];
  const evaluate = async (name: string, fusionDir: string, adapt = false): Promise<Evaluation> => {
    const file = path.join(o.out, 'evaluations', `${name}${adapt ? '-adapted' : ''}.json`);
    if (existsSync(file)) return evaluationsFromJson(JSON.parse(await readFile(file, 'utf8')));
    const f = await loadModelFrom(fusionDir, 'fusion');
    let adaptedS: Params | null = null;
    if (adapt) {
      log(`[compare] adapting S's heads to ${name}: ${o.adaptTask} steps on ${adaptPairs.length} labelled training pairs ...`);
      adaptedS = await adaptTaskHeads(f, scoringS, adaptPairs, { ...ADAPT_DEFAULTS, steps: o.adaptTask! });
    }
    log(`[compare] scoring ${name}${adapt ? ' with its adapted S' : ''} on ${testDir} ...`);
    try {
      const boxes = path.join(testDir, 'detection.json');
      const s = await runFuse({
        ir: path.join(testDir, 'ir'), vi: path.join(testDir, 'vi'),
        labels: existsSync(path.join(testDir, 'label')) ? path.join(testDir, 'label') : undefined,
        boxes: existsSync(boxes) ? boxes : undefined,
        out: path.join(o.out, 'fused', `${name}${adapt ? '-adapted' : ''}`), loaded: { fusion: f, segdet: adaptedS ?? scoringS }, backend: o.backend,
        limit: o.evalLimit, maxSide: o.evalMaxSide, log: () => {},
      });
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, JSON.stringify(evaluationsToJson(s.perPair)));
      return s.perPair;
    } finally {
      disposeParams(f);
      if (adaptedS) disposeParams(adaptedS);
    }
  };
  const all = (e: Evaluation) => e.map((_, i) => i);
  /** Per arm: scores per seed, Δ against the pretrained F and against fusion-only, with intervals. */
  const compareArms = (pretrained: Evaluation, evals: Record<string, Evaluation[]>) => o.arms.map((arm) => {
    const perSeed = evals[arm].map((e) => scoreSubset(e, all(e)));
    const fo = arm !== 'fusion-only' && evals['fusion-only'] ? evals['fusion-only'] : null;
    const mean = (xs: SetScores[], k: 'VIF' | 'Qabf') => xs.reduce((s, x) => s + x.metrics[k], 0) / xs.length;
    const rel = (base: SetScores[]) => Object.fromEntries((['VIF', 'Qabf'] as const).map((k) =>
      [k, (100 * (mean(perSeed, k) - mean(base, k))) / Math.abs(mean(base, k))])) as { VIF: number; Qabf: number };
    return {
      perSeed,
      vsPretrained: deltas(evals[arm], [pretrained], resamples),
      vsFusionOnly: fo ? deltas(evals[arm], fo, resamples) : null,
      relativeToFusionOnly: fo ? rel(fo.map((e) => scoreSubset(e, all(e)))) : null,
      relativeToPretrained: rel([scoreSubset(pretrained, all(pretrained))]),
    };
  });
  const evaluateAll = async (adapt: boolean) => {
    const pretrained = await evaluate('pretrained', modelsDir, adapt);
    const evals: Record<string, Evaluation[]> = {};
    for (const arm of o.arms) {
      evals[arm] = [];
      for (const seed of o.seeds) evals[arm].push(await evaluate(`${arm}-seed${seed}`, runDir(arm, seed), adapt));
    }
    const base = scoreSubset(pretrained, all(pretrained));
    log(`[compare] pretrained F${adapt ? ', adapted S' : ''}: mIoU ${(100 * base.mIoU).toFixed(2)} %, mAP@0.5 ${(100 * base.mAP50).toFixed(2)}`);
    return compareArms(pretrained, evals);
  };
  let reports: ArmReport[];
  try {
    const frozen = await evaluateAll(false);
    const adapted = o.adaptTask ? await evaluateAll(true) : null;
    reports = o.arms.map((arm, i) => {
      const sps = secondsPerStep[arm] ?? [];
      return {
        arm, strategy: armDef(o, arm).strategy, label: armDef(o, arm).label, seeds: o.seeds, ...frozen[i],
        secondsPerStep: sps.length ? sps.reduce((a, b) => a + b, 0) / sps.length : NaN,
        ...(adapted ? { adapted: adapted[i] } : {}),
      };
    });
  } finally {
    disposeParams(scoringS);
  }

  const md = compareMarkdown(reports, o);
  log(`\n${md}`);
  await writeFile(path.join(o.out, 'compare.md'), md + '\n');
  await writeFile(path.join(o.out, 'compare.json'), JSON.stringify({ options: { ...o, log: undefined }, reports }, null, 1) + '\n');
  const histories: Record<string, { step: number; total: number; stats: Record<string, number> }[][]> = {};
  for (const arm of o.arms) {
    histories[arm] = [];
    for (const seed of o.seeds) {
      const h = JSON.parse(await readFile(path.join(runDir(arm, seed), 'history.json'), 'utf8'));
      histories[arm].push(h.logs);
    }
  }
  await writeFile(path.join(o.out, 'compare.svg'), compareSvg(reports, histories));
  // The same pairs across arms (each arm's first seed), with the S each was scored with last.
  const fusedDir = (name: string) => path.join(o.out, 'fused', `${name}${o.adaptTask ? '-adapted' : ''}`);
  const columns = [
    { label: 'pretrained F', dir: fusedDir('pretrained') },
    ...o.arms.map((arm) => ({ label: `${arm} (seed ${o.seeds[0]})`, dir: fusedDir(`${arm}-seed${o.seeds[0]}`) })),
  ];
  const stems = (await readdir(path.join(columns[0].dir, 'fused'))).map((f) => path.parse(f).name).sort();
  await writeFile(path.join(o.out, 'compare-pairs.svg'), await pairsFigure(columns, stems, {
    pairs: Math.min(3, stems.length),
    title: `${o.steps} steps; S ${o.adaptTask ? `adapted ${o.adaptTask} steps to each F` : 'as pretrained'}; ${path.basename(testDir)} pairs`,
  }));
  log(`[compare] wrote ${['compare.md', 'compare.json', 'compare.svg', 'compare-pairs.svg'].map((f) => path.join(o.out, f)).join(', ')}`);
  return reports;
}

const fmtI = (x: Interval, d = 2) => `${x.value >= 0 ? '+' : ''}${x.value.toFixed(d)} [${x.lo.toFixed(d)}, ${x.hi.toFixed(d)}]`;

/** The README table: per arm, Δ against the pretrained F and against fusion-only, with intervals. */
export function compareMarkdown(reports: ArmReport[], o: Pick<CompareOptions, 'steps' | 'batch' | 'crop' | 'seeds' | 'lr' | 'adaptTask'>): string {
  const lines = [
    `${o.steps} steps, batch ${o.batch}, ${o.crop}² crops, F's learning rate ${o.lr ?? 'as each strategy\'s default'}, seeds ${o.seeds.join(', ')}; scored with the pretrained S on every test pair. ` +
      'Δ in points (mIoU, mAP@0.5), seeds averaged, with a paired 95 % bootstrap interval over test pairs [lo, hi].',
    '',
    '| arm | mIoU per seed | ΔmIoU vs pretrained F | ΔmIoU vs fusion-only | ΔmAP@0.5 vs fusion-only | VIF, Qabf vs fusion-only | s/step |',
    '|---|---|---|---|---|---|---:|',
  ];
  for (const r of reports) {
    const seeds = r.perSeed.map((s) => (100 * s.mIoU).toFixed(2)).join(' / ');
    lines.push(`| ${r.arm} | ${seeds} | ${fmtI(r.vsPretrained.mIoU)} | ${r.vsFusionOnly ? fmtI(r.vsFusionOnly.mIoU) : '—'} | ` +
      `${r.vsFusionOnly ? fmtI(r.vsFusionOnly.mAP50) : '—'} | ` +
      `${r.relativeToFusionOnly ? `${r.relativeToFusionOnly.VIF.toFixed(1)} %, ${r.relativeToFusionOnly.Qabf.toFixed(1)} %` : '—'} | ${r.secondsPerStep.toFixed(2)} |`);
  }
  lines.push('', '| arm | ' + FUSION_METRIC_NAMES.join(' | ') + ' |', '|---|' + FUSION_METRIC_NAMES.map(() => '---:').join('|') + '|');
  for (const r of reports) {
    lines.push(`| ${r.arm} (Δ vs pretrained F) | ` + FUSION_METRIC_NAMES.map((k) => `${r.vsPretrained[k].value >= 0 ? '+' : ''}${r.vsPretrained[k].value.toFixed(3)}`).join(' | ') + ' |');
  }
  if (reports.some((r) => r.adapted)) {
    lines.push('', `Task-adapted: S's heads trained ${o.adaptTask ?? '?'} steps on each F's own fused images of the labelled training pairs (the same seed and crops for every F, the pretrained F's included), then scored.`, '',
      '| arm | mIoU per seed, adapted S | ΔmIoU vs pretrained F | ΔmIoU vs fusion-only | ΔmAP@0.5 vs pretrained F | ΔmAP@0.5 vs fusion-only |',
      '|---|---|---|---|---|---|');
    for (const r of reports) {
      const a = r.adapted;
      if (!a) continue;
      lines.push(`| ${r.arm} | ${a.perSeed.map((s) => (100 * s.mIoU).toFixed(2)).join(' / ')} | ${fmtI(a.vsPretrained.mIoU)} | ${a.vsFusionOnly ? fmtI(a.vsFusionOnly.mIoU) : '—'} | ` +
        `${fmtI(a.vsPretrained.mAP50)} | ${a.vsFusionOnly ? fmtI(a.vsFusionOnly.mAP50) : '—'} |`);
    }
  }
  // The goal is judged on the adapted scores when there are any, as the papers score.
  const goal = reports.filter((r) => r.strategy === 'bdl' || r.strategy === 'td').map((r) => {
    const d = (r.adapted ?? r).vsFusionOnly?.mIoU.value ?? NaN;
    const ok = d >= 1.5 && Math.abs(r.relativeToPretrained.VIF) <= 5 && Math.abs(r.relativeToPretrained.Qabf) <= 5;
    return `${r.arm}: ${ok ? 'MET' : 'not met'} (ΔmIoU vs fusion-only ${Number.isFinite(d) ? d.toFixed(2) : '?'} points${r.adapted ? ', adapted S' : ''})`;
  });
  if (goal.length) lines.push('', `Goal (≥ +1.5 mIoU points over fusion-only, VIF and Qabf within 5 % of the pretrained F): ${goal.join('; ')}.`);
  return lines.join('\n');
}

/** Four small panels: smoothed loss per arm, bdl's w_k and c_k, ΔmIoU vs pretrained F with intervals. */
export function compareSvg(
  reports: ArmReport[], histories: Record<string, { step: number; total: number; stats: Record<string, number> }[][]>,
): string {
  const W = 300, H = 200, P = 36;
  const colors = ['#5f6368', '#1a73e8', '#d93025', '#188038', '#f9ab00'];
  const panel = (x0: number, title: string, body: string) =>
    `<g transform="translate(${x0},0)"><rect x="${P}" y="20" width="${W - P - 8}" height="${H - 50}" fill="none" stroke="#ccc"/>` +
    `<text x="${W / 2}" y="14" text-anchor="middle" font-size="12">${title}</text>${body}</g>`;
  const line = (pts: [number, number][], xr: [number, number], yr: [number, number], color: string) => {
    const sx = (v: number) => P + ((W - P - 8) * (v - xr[0])) / Math.max(1e-9, xr[1] - xr[0]);
    const sy = (v: number) => 20 + (H - 50) * (1 - (v - yr[0]) / Math.max(1e-9, yr[1] - yr[0]));
    return `<path d="${pts.map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('')}" fill="none" stroke="${color}" stroke-width="1.5"/>`;
  };
  const smooth = (xs: number[], k = 25) => xs.map((_, i) => {
    const w = xs.slice(Math.max(0, i - k + 1), i + 1).filter(Number.isFinite);
    return w.reduce((a, b) => a + b, 0) / w.length;
  });
  // Panel 1: total loss relative to its first window, per arm (seed 1).
  let p1 = '';
  const rel: { arm: string; pts: [number, number][] }[] = [];
  for (const r of reports) {
    const logs = histories[r.arm]?.[0];
    if (!logs?.length) continue;
    const s = smooth(logs.map((l) => l.total));
    rel.push({ arm: r.arm, pts: s.map((v, i) => [logs[i].step, v / s[Math.min(s.length - 1, 24)]]) });
  }
  const steps = Math.max(1, ...rel.flatMap((r) => r.pts.map((p) => p[0])));
  const ys = rel.flatMap((r) => r.pts.map((p) => p[1])).filter(Number.isFinite);
  const yr: [number, number] = [Math.min(...ys, 1), Math.max(...ys, 1)];
  rel.forEach((r, i) => { p1 += line(r.pts, [1, steps], yr, colors[i % colors.length]); });
  p1 += rel.map((r, i) => `<text x="${P + 4}" y="${34 + 12 * i}" font-size="10" fill="${colors[i % colors.length]}">${r.arm}</text>`).join('');
  p1 += `<text x="${P - 3}" y="28" font-size="9" text-anchor="end">${yr[1].toFixed(2)}</text><text x="${P - 3}" y="${H - 30}" font-size="9" text-anchor="end">${yr[0].toFixed(2)}</text>`;
  // Panels 2 and 3: bdl's DWA weights w_k and its coefficients c_k (seed 1; c_k smoothed, as a
  // single pair's swings in sign from step to step).
  const bdlPanel = (prefix: string, smoothed: boolean) => {
    const logs = histories.bdl?.[0];
    if (!logs?.length) return '';
    const names = Object.keys(logs[0].stats).filter((k) => k.startsWith(prefix));
    const series = names.map((n) => (smoothed ? smooth(logs.map((l) => l.stats[n])) : logs.map((l) => l.stats[n])));
    const vals = series.flat().filter(Number.isFinite);
    const r: [number, number] = [Math.min(...vals, prefix === 'w.' ? 0.9 : 0), Math.max(...vals, prefix === 'w.' ? 1.1 : 0)];
    let p = series.map((ys, i) => line(logs.map((l, j) => [l.step, ys[j]]), [1, logs.length], r, colors[(i + 1) % colors.length])).join('');
    p += names.map((n, i) => `<text x="${P + 4}" y="${34 + 12 * i}" font-size="10" fill="${colors[(i + 1) % colors.length]}">${n}</text>`).join('');
    return p + `<text x="${P - 3}" y="28" font-size="9" text-anchor="end">${r[1].toFixed(2)}</text><text x="${P - 3}" y="${H - 30}" font-size="9" text-anchor="end">${r[0].toFixed(2)}</text>`;
  };
  const p2 = bdlPanel('w.', false);
  const pc = bdlPanel('c.', true);
  // Panel 3: ΔmIoU vs pretrained F, with intervals.
  const iv = reports.map((r) => r.vsPretrained.mIoU);
  const lo = Math.min(0, ...iv.map((x) => x.lo)), hi = Math.max(0, ...iv.map((x) => x.hi));
  const sy = (v: number) => 20 + (H - 50) * (1 - (v - lo) / Math.max(1e-9, hi - lo));
  const bw = (W - P - 8) / Math.max(1, reports.length);
  let p3 = `<line x1="${P}" x2="${W - 8}" y1="${sy(0)}" y2="${sy(0)}" stroke="#999"/>`;
  reports.forEach((r, i) => {
    const x = P + bw * (i + 0.5);
    const d = r.vsPretrained.mIoU;
    p3 += `<line x1="${x}" x2="${x}" y1="${sy(d.lo)}" y2="${sy(d.hi)}" stroke="${colors[i % colors.length]}" stroke-width="2"/>` +
      `<circle cx="${x}" cy="${sy(d.value)}" r="3.5" fill="${colors[i % colors.length]}"/>` +
      `<text x="${x}" y="${H - 18}" font-size="9" text-anchor="middle">${r.arm}</text>`;
  });
  p3 += `<text x="${P - 3}" y="28" font-size="9" text-anchor="end">${hi.toFixed(1)}</text><text x="${P - 3}" y="${H - 30}" font-size="9" text-anchor="end">${lo.toFixed(1)}</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${4 * W}" height="${H}" font-family="sans-serif">` +
    panel(0, 'loss / its value at step 25 (seed 1, smoothed)', p1) +
    panel(W, 'bdl task weights w_k (DWA, seed 1)', p2) +
    panel(2 * W, 'bdl coefficients c_k (seed 1, 25-step mean)', pc) +
    panel(3 * W, 'ΔmIoU vs pretrained F (points, 95 % CI)', p3) + '</svg>\n';
}

export const COMPARE_USAGE = `usage: npm run finetune -- --compare [--arms ${ARM_NAMES.join(',')}] [--seeds 1,2] [--steps 500]
       [--batch 4] [--crop 128] [--lr F] [--out runs/compare] [--data ../shared/data] [--models DIR] [--train DIR] [--test DIR]
       [--held-out F] [--limit N] [--eval-limit N] [--eval-max-side N] [--resamples 1000] [--backend wasm|cpu]
       [--adapt-task K]  (also score with S's heads adapted K steps to each F's fused images)
       [--variant NAME=STRATEGY:opt=value:...]  (one more arm, e.g. bdl-pooled=bdl:cWindow=20; repeatable)
       [--validate]  (fine-tune on four fifths of msrs/train and score the held-out fifth: choices made
                      before any test number; msrs/test is not read)`;

/** Parses `--compare` arguments; returns null (after printing why) when unusable. */
export function parseCompareArgs(argv: string[], defaults: { heldOut: number }): CompareOptions | null {
  return readCommandLine(argv.filter((a) => a !== '--compare'), {
    arms: { type: 'string', default: ARM_NAMES.join(',') }, seeds: { type: 'string', default: '1,2' },
    steps: { type: 'string', default: '500' }, batch: { type: 'string', default: '4' }, crop: { type: 'string', default: '128' },
    lr: { type: 'string' },
    out: { type: 'string', default: path.join('runs', 'compare') }, data: { type: 'string', default: '../shared/data' },
    models: { type: 'string' }, train: { type: 'string' }, test: { type: 'string' }, 'held-out': { type: 'string' },
    limit: { type: 'string' }, 'eval-limit': { type: 'string' }, 'eval-max-side': { type: 'string' },
    resamples: { type: 'string', default: '1000' }, backend: { type: 'string', default: 'wasm' }, 'adapt-task': { type: 'string' },
    variant: { type: 'string', multiple: true, default: [] }, validate: { type: 'boolean', default: false },
  }, COMPARE_USAGE, (v) => {
    const int = (x: string | undefined, name: string, min = 1) => numberOption(x, name, { int: true, min });
    const variants: Record<string, ArmDef> = {};
    for (const text of v.variant) {
      const m = /^([\w.-]+)=(\w+)((?::[^:]+)*)$/.exec(text);
      if (!m) throw new Error(`--variant needs NAME=STRATEGY:opt=value:..., got '${text}'`);
      const [, name, strategy, rest] = m;
      if (name in ARMS || name in variants) throw new Error(`--variant: the arm '${name}' exists already`);
      if (!(STRATEGY_NAMES as readonly string[]).includes(strategy)) throw new Error(`--variant ${name}: unknown strategy '${strategy}' (${STRATEGY_NAMES.join(', ')})`);
      const options = optionAssignments(rest.split(':').filter(Boolean), `--variant ${name}`);
      resolveSpec({ strategy: strategy as StrategyName, options }); // a bad option fails here, not after hours of other arms
      variants[name] = { strategy: strategy as StrategyName, options, label: `${strategy}, ${Object.entries(options).map(([k, x]) => `${k}=${String(x)}`).join(', ') || 'defaults'}` };
    }
    const arms = [...v.arms.split(',').map((a) => a.trim()).filter(Boolean), ...Object.keys(variants)];
    for (const a of arms) armDef({ variants }, a);
    const seeds = v.seeds.split(',').map((x) => int(x.trim(), 'seeds', 0)!);
    if (v.backend !== 'wasm' && v.backend !== 'cpu') throw new Error(`--backend must be wasm or cpu, got ${v.backend}`);
    const heldOut = numberOption(v['held-out'], 'held-out', { min: 0 }) ?? defaults.heldOut;
    if (heldOut >= 1) throw new Error(`--held-out must be below 1, got ${heldOut}`);
    return {
      data: v.data, train: v.train, test: v.test, models: v.models, out: v.out, arms, variants, validate: v.validate, seeds,
      steps: int(v.steps, 'steps')!, batch: int(v.batch, 'batch')!, crop: int(v.crop, 'crop', 32)!, lr: numberOption(v.lr, 'lr'), backend: v.backend,
      heldOut, limit: int(v.limit, 'limit'), evalLimit: int(v['eval-limit'], 'eval-limit'),
      evalMaxSide: int(v['eval-max-side'], 'eval-max-side', 32), resamples: int(v.resamples, 'resamples'),
      adaptTask: int(v['adapt-task'], 'adapt-task'),
    };
  });
}
