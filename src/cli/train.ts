/**
 * Training pipeline: `npm run train -- --data ../shared/data [options]`.
 *
 * Stages, in order (pick with --stages): F on the fusion loss; D against the frozen F; G to its
 * saliency warm start; S (segmentation + detection) on F's fused images with augmentation.
 * Every stage is seeded, prints progress with an ETA, checkpoints every --checkpoint-every steps
 * (parameters + Adam state) and resumes from its checkpoint with --resume. Trained weights go to
 * `<out>/<model>/` with a card.json.
 */
import * as tf from '@tensorflow/tfjs-core';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { useBackend, webgpuAdapter, webgpuErrors } from './node-backend';
import { parseNodeBackend } from './args';
import { holdOutBlocks, loadSplit } from './dataset';
import { prepareTrainPairs } from '../core/train/pairs';
import { fusePairs } from '../core/train/adapt-task';
import { loadModelFolderInto, loadModelFolderPartlyInto, saveModelFolder } from './weights-fs';
import { fusion } from '../core/models/fusion';
import { SEGDET_PARTS, segdet, segdetParamNames, type SegDetPart } from '../core/models/segdet';
import { segdetFromCenternet } from '../core/models/segdet-import';
import { centernetProvenance, centernetWeights, readCenternetPackage } from './centernet-package';
import { augmentTaskBatch, scaledCropSide } from '../core/train/augment';
import { discriminator } from '../core/models/discriminator';
import { lossGenerator } from '../core/models/loss-generator';
import type { ModelDef } from '../core/models/model-def';
import { trainLoop, type StepLosses, type StepLog } from '../core/train/loop';
import { Adam } from '../core/train/flat';
import { sampleCrops, type TrainPair } from '../core/train/batch';
import {
  DEFAULT_SEGDET_WEIGHTS, PRETRAIN_FUSION_WEIGHTS, discriminatorObjective, fusionObjective,
  lossGeneratorWarmupObjective, segdetObjective,
} from '../core/train/objectives';
import { saliencyTarget } from '../core/losses/fusion-losses';
import { msrsClassWeights } from '../core/losses/task-losses';
import { encodeBatch, disposeTargets } from '../core/detect/centernet';
import { SEG_CLASSES, type Params } from '../core/types';
import { channel } from '../core/nn/layers';

const STAGES = ['fusion', 'discriminator', 'lossGenerator', 'segdet'] as const;
type Stage = (typeof STAGES)[number];

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/data' },
    stages: { type: 'string', default: STAGES.join(',') },
    out: { type: 'string' },
    force: { type: 'boolean', default: false },
    checkpoints: { type: 'string', default: 'checkpoints' },
    resume: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    backend: { type: 'string', default: 'wasm' },
    limit: { type: 'string' },
    'checkpoint-every': { type: 'string', default: '200' },
    'fusion-steps': { type: 'string', default: '1500' },
    'fusion-batch': { type: 'string', default: '8' },
    'fusion-crop': { type: 'string', default: '128' },
    'fusion-lr': { type: 'string', default: '2e-3' },
    'fusion-weights': { type: 'string' },
    'disc-steps': { type: 'string', default: '300' },
    'lossgen-steps': { type: 'string', default: '300' },
    'segdet-steps': { type: 'string', default: '2000' },
    'segdet-batch': { type: 'string', default: '8' },
    'segdet-crop': { type: 'string', default: '256' },
    'segdet-lr': { type: 'string', default: '1e-3' },
    'segdet-parts': { type: 'string', default: 'seg,det' },
    'segdet-from': { type: 'string' },
    'segdet-backbone-lr-scale': { type: 'string', default: '1' },
    'segdet-fresh-lr-scale': { type: 'string', default: '1' },
    'segdet-dice': { type: 'string', default: '0' },
    'segdet-focus': { type: 'string', default: '0' },
    'segdet-focus-classes': { type: 'string', default: 'curve,car_stop,guardrail,color_cone,bump' },
    'hold-out': { type: 'string', default: '0' },
    'hold-out-seed': { type: 'string', default: '1' },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  console.log(`usage: npm run train -- --data DIR [--stages ${STAGES.join(',')}] [--out DIR] [--force] [--resume]
  [--out DIR]  (where the weights go; default a new folder runs/train-<date>; the shipped models/ only with --out models --force)
  [--seed N] [--backend wasm|cpu|webgpu] [--limit N] [--fusion-steps N] [--segdet-steps N] [--disc-steps N] [--lossgen-steps N]
  [--fusion-batch N] [--fusion-crop PX] [--segdet-batch N] [--segdet-crop PX] [--checkpoint-every N]
  [--segdet-parts seg,det]  (parts of S that move: ${SEGDET_PARTS.join(', ')}; the rest stay as imported)
  [--segdet-from DIR]  (start S from these weights instead of the COCO import, e.g. an earlier stage's)
  [--segdet-backbone-lr-scale 0.1]  (the backbone's learning rate relative to --segdet-lr, when it moves)
  [--segdet-fresh-lr-scale 5]  (the rate, relative to --segdet-lr, of layers that --segdet-from's weights lack)
  [--segdet-dice 0.5]  (weight of a soft Dice term over the classes present, beside the cross-entropy)
  [--segdet-focus 0.5] [--segdet-focus-classes curve,...]  (share of crops drawn around a pixel of these classes)
  [--hold-out 0.15] [--hold-out-seed 1]  (keep this fraction of the pairs out of training, in blocks of 5 frames; listed in the card)
  [--fusion-weights intensity=1,gradient=10,ssim=0.5]  (F's loss weights; defaults as shown)`);
  process.exit(0);
}

// The shipped weights are not overwritten by accident: a run writes to a new folder of its own.
if (!args.out) args.out = path.join('runs', `train-${new Date().toISOString().replace(/[:.]/g, '-')}`);
if (path.resolve(args.out) === path.resolve('models') && !args.force) {
  console.error('train: --out models would overwrite the shipped weights; add --force to mean it');
  process.exit(2);
}
console.log(`train: writing to ${args.out}`);

const num = (k: keyof typeof args) => Number(args[k]);
const seed = num('seed');

function fmtDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

/** Prints progress at most every 2 s (and at the last step), with mean step time and ETA. */
function progressPrinter(stage: string, total: number) {
  let last = 0;
  let recent: number[] = [];
  return (log: StepLog) => {
    recent.push(log.ms);
    if (recent.length > 50) recent = recent.slice(-50);
    const now = performance.now();
    if (now - last < 2000 && log.step !== total) return;
    last = now;
    const ms = recent.reduce((a, b) => a + b, 0) / recent.length;
    const terms = Object.entries(log.terms).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' ');
    console.log(`[${stage}] ${log.step}/${total} (${((100 * log.step) / total).toFixed(1)}%) loss ${log.total.toFixed(4)} | ${terms} | lr ${log.lr.toExponential(1)} | ${ms.toFixed(0)} ms/step | ETA ${fmtDuration(((total - log.step) * ms) / 1000)}${log.skipped ? ' | SKIPPED (non-finite loss)' : ''}`);
  };
}

interface StageRun {
  stage: Stage;
  model: ModelDef<unknown>;
  params: Params;
  /** Store the weights as float16 (S: its imported weights are float16 at the source). */
  float16?: boolean;
  /** The parameters that move (default all of `params`); the rest stay frozen but are saved. */
  trainable?: Params;
  /** Learning-rate multipliers by parameter name (default 1). */
  lrScale?: Record<string, number>;
  steps: number;
  lr: number;
  loss: (step: number, rng: import('../core/nn/random').Rng) => StepLosses;
  card: Record<string, unknown>;
}

/** Trains one stage with checkpoints and resume, then saves `<out>/<model>/`. */
async function runStage(r: StageRun): Promise<void> {
  const ckptDir = path.join(args.checkpoints!, r.stage);
  const moving = r.trainable ?? r.params;
  const opt = new Adam(moving, { lrScale: r.lrScale });
  let startStep = 0;
  if (args.resume && existsSync(path.join(ckptDir, 'state.json'))) {
    const state = JSON.parse(await readFile(path.join(ckptDir, 'state.json'), 'utf8'));
    await loadModelFolderInto(path.join(ckptDir, 'params'), r.params);
    const m: Params = {}, v: Params = {};
    for (const [k, p] of Object.entries(moving)) { m[k] = tf.variable(tf.zerosLike(p)); v[k] = tf.variable(tf.zerosLike(p)); }
    await loadModelFolderInto(path.join(ckptDir, 'adam-m'), m);
    await loadModelFolderInto(path.join(ckptDir, 'adam-v'), v);
    const asArrays = async (ps: Params) => Object.fromEntries(await Promise.all(Object.entries(ps).map(async ([k, t]) => [k, (await t.data()) as Float32Array])));
    opt.restore({ step: state.adamStep, m: await asArrays(m), v: await asArrays(v) });
    tf.dispose([...Object.values(m), ...Object.values(v)]);
    startStep = state.step;
    console.log(`[${r.stage}] resumed from ${ckptDir} at step ${startStep}`);
  }
  const every = num('checkpoint-every');
  const print = progressPrinter(r.stage, r.steps);
  const history: { step: number; total: number }[] = [];
  let skipped = 0;
  const t0 = performance.now();
  const saveCheckpoint = async (step: number) => {
    const st = await opt.state();
    const toTensors = (arrs: Record<string, Float32Array>) => Object.fromEntries(Object.entries(arrs).map(([k, a]) => [k, tf.tensor(a, moving[k].shape)]));
    const m = toTensors(st.m), v = toTensors(st.v);
    await saveModelFolder(path.join(ckptDir, 'params'), r.params);
    await saveModelFolder(path.join(ckptDir, 'adam-m'), m);
    await saveModelFolder(path.join(ckptDir, 'adam-v'), v);
    tf.dispose([...Object.values(m), ...Object.values(v)]);
    await writeFile(path.join(ckptDir, 'state.json'), JSON.stringify({ stage: r.stage, step, adamStep: st.step, seed, steps: r.steps }));
  };
  let lastLog: StepLog | undefined;
  for await (const log of trainLoop({ params: moving, optimizer: opt, steps: r.steps, startStep, seed: deriveStageSeed(r.stage), lr: r.lr, warmup: Math.min(100, r.steps / 10), loss: r.loss })) {
    print(log);
    // A WebGPU kernel that failed to build gives wrong numbers and no exception: stop.
    if (webgpuErrors.length) throw new Error(`WebGPU errors at step ${log.step} (the training would be wrong): ${webgpuErrors[0]}`);
    lastLog = log;
    if (log.skipped) skipped++;
    if (log.step % 10 === 0) history.push({ step: log.step, total: +log.total.toFixed(5) });
    if (log.step % every === 0 && log.step < r.steps) await saveCheckpoint(log.step);
  }
  await saveCheckpoint(r.steps);
  const seconds = (performance.now() - t0) / 1000;
  const outDir = path.join(args.out!, r.model.name);
  const card = {
    name: r.model.name,
    ...r.card,
    parameters: r.model.paramCount(r.params),
    multiplyAddsAt640x480: r.model.macs(480, 640),
    training: {
      ...(r.card.training as object),
      steps: r.steps, seed, backend: tf.getBackend(), ...(webgpuAdapter ? { adapter: webgpuAdapter } : {}), seconds: Math.round(seconds), resumedAt: startStep || undefined,
      skippedSteps: skipped, finalLoss: lastLog ? { total: lastLog.total, ...lastLog.terms } : undefined,
      lossEvery10Steps: history.length > 400 ? history.filter((_, i) => i % Math.ceil(history.length / 400) === 0) : history,
    },
    date: new Date().toISOString(),
  };
  await saveModelFolder(outDir, r.params, { card, float16: r.float16 });
  console.log(`[${r.stage}] saved ${outDir} (${card.parameters} parameters) after ${fmtDuration(seconds)}`);
  opt.dispose();
}

/** Overrides numeric loss weights from `name=value,...`; unknown names are an error. */
function withWeights<T extends object>(base: T, spec: string | undefined): T {
  const out = { ...base } as Record<string, unknown>;
  for (const part of (spec ?? '').split(',').filter(Boolean)) {
    const [k, v] = part.split('=');
    if (typeof out[k] !== 'number' || !Number.isFinite(Number(v))) throw new Error(`--fusion-weights: '${part}' is not one of ${Object.keys(base).filter((n) => typeof out[n] === 'number').join(', ')} = number`);
    out[k] = Number(v);
  }
  return out as T;
}

function deriveStageSeed(stage: Stage): number {
  return seed * 1000 + STAGES.indexOf(stage);
}

/** A crop batch as the [B,h,w,2] model input and its IR and VI planes ([B,h,w,1] each). */
function irViTensors(b: { irvi: Float32Array; batch: number; height: number; width: number }): { x: tf.Tensor4D; ir: tf.Tensor4D; vi: tf.Tensor4D } {
  const x = tf.tensor4d(b.irvi, [b.batch, b.height, b.width, 2]);
  return { x, ir: channel(x, 0), vi: channel(x, 1) };
}

/**
 * Loads an already-trained model into fresh params (for the later stages): this run's
 * `<out>/<name>` when an earlier stage wrote it, else the shipped `models/<name>`.
 */
async function loadTrained(model: ModelDef<unknown>): Promise<Params> {
  const p = model.init(seed);
  const own = path.join(args.out!, model.name);
  const dir = existsSync(path.join(own, 'model.json')) ? own : path.join('models', model.name);
  if (dir !== own) console.log(`train: ${model.name} from ${dir} (no earlier stage of this run wrote it)`);
  await loadModelFolderInto(dir, p);
  return p;
}

async function main(): Promise<void> {
  const stages = args.stages!.split(',').map((s) => s.trim()) as Stage[];
  for (const s of stages) if (!STAGES.includes(s)) throw new Error(`unknown stage '${s}' (stages: ${STAGES.join(', ')})`);
  await useBackend(parseNodeBackend(args.backend!));
  const trainDir = path.join(args.data!, 'msrs', 'train');
  if (!existsSync(path.join(trainDir, 'ir'))) throw new Error(`no training data at ${trainDir} (expected ir/, vi/, label/, detection.json)`);
  console.log(`loading ${trainDir} ...`);
  // Training from scratch uses the labels as they are: no pseudo-labels.
  const { pairs: loaded } = await prepareTrainPairs(await loadSplit(trainDir, { limit: args.limit ? num('limit') : undefined }), { taskOn: false });
  // A validation split chosen before training, so recipe decisions need not look at msrs/test.
  // Its own seed, so that later phases with other training seeds keep the same split.
  const split = holdOutBlocks(loaded.map((p) => p.stem), num('hold-out'), num('hold-out-seed'));
  const kept = new Set(split.train);
  const pairs = loaded.filter((p) => kept.has(p.stem));
  console.log(`loaded ${loaded.length} pairs, training on ${pairs.length} (${split.validation.length} held out); backend ${tf.getBackend()}${webgpuAdapter ? ` (${webgpuAdapter})` : ''}; seed ${seed}`);
  await mkdir(args.out!, { recursive: true });
  const data = {
    source: trainDir, pairs: pairs.length, note: 'MSRS pairs from the official test split, see shared/data/README.md',
    ...(split.validation.length ? { heldOut: split.validation } : {}),
  };

  for (const stage of stages) {
    if (stage === 'fusion') {
      const batch = num('fusion-batch'), crop = num('fusion-crop');
      const params = fusion.init(seed);
      const w = withWeights(PRETRAIN_FUSION_WEIGHTS, args['fusion-weights']);
      await runStage({
        stage, model: fusion, params, steps: num('fusion-steps'), lr: num('fusion-lr'),
        card: { architecture: 'multi-scale CNN (full, 1/2, 1/4 resolution) with a soft max-fusion prior; input [IR, Y_vis], output fused Y (sigmoid)', data, training: { batch, crop, lossWeights: w, augmentation: 'random crops, horizontal flips' } },
        loss: (_step, rng) => {
          const b = sampleCrops(pairs, { batch, cropHeight: crop, cropWidth: crop }, rng);
          const { x, ir, vi } = irViTensors(b);
          const f = fusion.apply(params, x);
          return fusionObjective(f, ir, vi, w);
        },
      });
      tf.dispose(Object.values(params));
    }
    if (stage === 'discriminator') {
      const fParams = await loadTrained(fusion);
      const params = discriminator.init(seed);
      const batch = 8, crop = 128;
      await runStage({
        stage, model: discriminator, params, steps: num('disc-steps'), lr: 1e-3,
        card: { architecture: 'patch discriminator on Y images', data, training: { batch, crop, real: 'saliency target m*IR+(1-m)*VI', fake: 'F output (frozen pretrained F)' } },
        loss: (_step, rng) => {
          const b = sampleCrops(pairs, { batch, cropHeight: crop, cropWidth: crop }, rng);
          const { x, ir, vi } = irViTensors(b);
          const fake = fusion.apply(fParams, x);
          const real = saliencyTarget(ir, vi);
          return discriminatorObjective(discriminator.apply(params, real) as tf.Tensor, discriminator.apply(params, fake) as tf.Tensor);
        },
      });
      tf.dispose([...Object.values(params), ...Object.values(fParams)]);
    }
    if (stage === 'lossGenerator') {
      const params = lossGenerator.init(seed);
      const batch = 8, crop = 128;
      await runStage({
        stage, model: lossGenerator, params, steps: num('lossgen-steps'), lr: 2e-3,
        card: { architecture: 'small CNN, 2-channel softmax per-pixel loss weights (w_ir, w_vi)', data, training: { batch, crop, objective: 'cross-entropy to the IR saliency map (warm start before TDFusion meta-learning)' } },
        loss: (_step, rng) => {
          const b = sampleCrops(pairs, { batch, cropHeight: crop, cropWidth: crop }, rng);
          const { x, ir } = irViTensors(b);
          return lossGeneratorWarmupObjective(lossGenerator.apply(params, x), ir);
        },
      });
      tf.dispose(Object.values(params));
    }
    if (stage === 'segdet') {
      const fParams = await loadTrained(fusion);
      const t0 = performance.now();
      await fusePairs(fParams, pairs);
      console.log(`[segdet] fused ${pairs.length} training pairs with F (${((performance.now() - t0) / pairs.length).toFixed(0)} ms/pair)`);
      tf.dispose(Object.values(fParams));
      const batch = num('segdet-batch'), crop = num('segdet-crop');
      // S starts from the COCO-pretrained detector (docs/models.md, "where weights may come from"); its segmentation head is new.
      // With --segdet-from it continues from earlier weights (a later phase of the recipe).
      let params: Params;
      let startedFrom: Record<string, unknown> | null = null;
      let fresh: string[] = [];
      let pretrained: Record<string, unknown> | undefined;
      if (args['segdet-from']) {
        // Layers added to S since those weights were saved start from init. Its seed is fixed,
        // not --seed, so runs that differ only in --seed start alike and can be averaged.
        params = segdet.init(0);
        const prev = await loadModelFolderPartlyInto(args['segdet-from'], params);
        fresh = prev.kept;
        // Where the COCO weights came from, as the earlier card recorded it: continuing needs no package.
        pretrained = prev.card?.pretrained as Record<string, unknown> | undefined;
        // The earlier card by name and date only: its own history is in the card it came from.
        startedFrom = { weights: args['segdet-from'], date: prev.card?.date ?? null, ...(fresh.length ? { freshParams: fresh } : {}) };
        console.log(`[segdet] starting from ${args['segdet-from']}${fresh.length ? `; not there, so from init: ${fresh.join(', ')}` : ''}`);
      } else {
        const pkg = readCenternetPackage();
        const graph = centernetWeights(pkg);
        params = segdetFromCenternet(graph, seed);
        tf.dispose(Object.values(graph));
        pretrained = centernetProvenance(pkg);
        console.log(`[segdet] imported ${pkg.package} ${pkg.binPath} (sha256 ${pkg.binSha256.slice(0, 12)}…)`);
      }
      // An earlier card without the record: read it off the package.
      pretrained ??= centernetProvenance(readCenternetPackage());
      const parts = args['segdet-parts']!.split(',').map((x) => x.trim()) as SegDetPart[];
      for (const x of parts) if (!SEGDET_PARTS.includes(x)) throw new Error(`--segdet-parts: unknown part '${x}' (parts: ${SEGDET_PARTS.join(', ')})`);
      const trainable = Object.fromEntries(segdetParamNames(parts).map((n) => [n, params[n]]));
      const backboneLrScale = num('segdet-backbone-lr-scale');
      const freshLrScale = num('segdet-fresh-lr-scale');
      const lrScale = {
        ...Object.fromEntries(segdetParamNames(['backbone']).map((n) => [n, backboneLrScale])),
        ...Object.fromEntries(fresh.map((n) => [n, freshLrScale])),
      };
      const dice = num('segdet-dice');
      const w = { ...DEFAULT_SEGDET_WEIGHTS, classWeights: msrsClassWeights(), ...(dice ? { dice } : {}) };
      const focusShare = num('segdet-focus');
      const focusNames = args['segdet-focus-classes']!.split(',').map((x) => x.trim());
      const focusClasses = focusNames.map((x) => (SEG_CLASSES as readonly string[]).indexOf(x));
      focusClasses.forEach((k, i) => { if (k < 0) throw new Error(`--segdet-focus-classes: unknown class '${focusNames[i]}' (classes: ${SEG_CLASSES.join(', ')})`); });
      const focus = focusShare > 0 ? { classes: focusClasses, share: focusShare } : undefined;
      const maxSide = Math.min(...pairs.map((p) => Math.min(p.width, p.height)));
      await runStage({
        stage, model: segdet, params, trainable, lrScale, float16: true, steps: num('segdet-steps'), lr: num('segdet-lr'),
        card: {
          architecture: 'MobileNetV3 backbone + CenterNet decoder and head (person, bicycle, car) imported from a COCO-trained detector; new 9-class segmentation head on the decoder\'s 1/4 features and the stride-2 features',
          pretrained,
          data,
          training: {
            startedFrom: startedFrom ?? 'the COCO import (segmentation head: seeded init)',
            parts: { moved: parts, frozen: SEGDET_PARTS.filter((x) => !parts.includes(x)) },
            ...(parts.includes('backbone') ? { backboneLrScale } : {}),
            ...(fresh.length ? { freshLrScale } : {}),
            batch, crop, lossWeights: w,
            input: 'fused RGB: the trained F\'s Y with the visible Cb/Cr',
            augmentation: 'random crops at scale 0.75-1.5x, horizontal flips, infrared-only (15 %) and visible-only (15 %) inputs, luma gain ±25 % and offset ±0.08',
            ...(focus ? { rareClassCrops: { share: focusShare, classes: focusNames } } : {}),
          },
        },
        loss: (_step, rng) => {
          const side = scaledCropSide(crop, rng, maxSide);
          const b = sampleCrops(pairs, { batch, cropHeight: side, cropWidth: side, focus }, rng);
          const a = augmentTaskBatch(b, { crop }, rng);
          const targets = encodeBatch(a.boxes!, crop, crop);
          const l = segdetObjective(segdet.apply(params, a.rgb), a.labels, targets, w);
          disposeTargets(targets);
          return l;
        },
      });
      tf.dispose(Object.values(params));
    }
  }
}

main().catch((e) => {
  console.error(`train: ${(e as Error).message}`);
  process.exit(1);
});
