/**
 * Fine-tuning in the worker: decodes the chosen pairs into training pairs (labels from label
 * PNGs, otherwise pseudo-labels from the pretrained S), copies the models the strategy needs
 * (the pretrained ones are never touched), runs `core/strategies` step by step with pause /
 * resume / stop, reports losses and an ETA, re-fuses a preview pair every N steps, and returns
 * the moved models' weights in the tfjs weights format.
 */
import type { GroundTruthBox, Params, RawImage } from '../core/types';
import { SEG_CLASSES } from '../core/types';
import { imageToY, interleavedChroma } from '../core/image/color';
import { resizeImage } from '../core/image/resize';
import { MODELS, type ModelName } from '../core/models/registry';
import { disposeParams } from '../core/models/model-def';
import { createPipeline } from '../core/pipeline';
import { Rng, deriveSeed } from '../core/nn/random';
import { sampleCrops, type TrainPair } from '../core/train/batch';
import { createStrategy, STRATEGY_NAMES, strategyInfo } from '../core/strategies/registry';
import { CLASS_WEIGHT_CHOICES } from '../core/strategies/common';
import type { StrategyModels } from '../core/strategies/types';
import { encodeWeights } from '../core/weights/io';
import type {
  BackendName, LabelSource, RunWeights, StrategyInfoData, TrainPairSource, TrainProgressReply, TrainRequest, TrainResult,
} from '../protocol/messages';
import { bitmapToLabel, bitmapToRaw, decodeBitmap, rawToBitmap } from './decode';
import { CancelledError, type Engine } from './engine';
import { loadModel } from './pipeline-adapter';

/** Flags set by `trainControl` and `cancel` while a training job runs. */
export interface TrainControl {
  paused: boolean;
  stop: boolean;
  isCancelled(): boolean;
}

/** Where the trainer posts its messages. */
export interface TrainSink {
  progress(p: Omit<TrainProgressReply, 'id' | 'type'>): void;
  preview(step: number, pairId: string, fused: ImageBitmap): void;
}

/** Allowed values of the strategies' string options (as checked in fixed.ts, bdl.ts, td.ts). */
const OPTION_CHOICES: Record<string, string[]> = {
  intensityMode: ['max', 'mean', 'saliency'],
  gradientVariant: ['abs-max', 'sobel-max'],
  classWeights: [...CLASS_WEIGHT_CHOICES],
};

/** The strategies for the UI's picker. */
export function strategyList(): StrategyInfoData[] {
  return STRATEGY_NAMES.map((n) => {
    const i = strategyInfo(n);
    const choices = Object.fromEntries(Object.keys(i.defaultOptions).filter((k) => OPTION_CHOICES[k]).map((k) => [k, OPTION_CHOICES[k]]));
    return {
      name: i.name, label: i.label, description: i.description, requires: [...i.requires], mayMove: [...i.mayMove],
      defaultOptions: { ...i.defaultOptions }, choices,
    };
  });
}

/** Detections at or above this score become pseudo boxes. */
const PSEUDO_BOX_SCORE = 0.3;
/** Largest side a training pair is read at. */
const TRAIN_MAX_SIDE = 1024;

interface Decoded {
  src: TrainPairSource;
  ir: RawImage;
  vi: RawImage;
  label: Uint8Array | null;
  /** Read size / file size (boxes are given in file pixels). */
  scale: number;
}

async function decodePair(src: TrainPairSource): Promise<Decoded> {
  const [irB, viB] = await Promise.all([decodeBitmap(src.ir), decodeBitmap(src.vi)]);
  let { width, height } = irB;
  const sx = Math.min(1, TRAIN_MAX_SIDE / Math.max(width, height));
  const full = { width, height };
  width = Math.round(width * sx);
  height = Math.round(height * sx);
  const ir = bitmapToRaw(irB, { width, height }, true);
  let vi = bitmapToRaw(viB, { width: viB.width, height: viB.height }, false);
  irB.close();
  viB.close();
  if (vi.width !== width || vi.height !== height) vi = resizeImage(vi, width, height);
  let label: Uint8Array | null = null;
  if (src.label) {
    try {
      const lb = await decodeBitmap(src.label);
      if (lb.width === full.width && lb.height === full.height) {
        const map = bitmapToLabel(lb, { width, height });
        if (map.every((v) => v < SEG_CLASSES.length)) label = map;
      }
      lb.close();
    } catch { /* unreadable label: treated as absent */ }
  }
  return { src, ir, vi, label, scale: width / full.width };
}

function scaleBoxes(boxes: [number, number, number, number, number][], s: number): GroundTruthBox[] {
  return boxes.map(([x1, y1, x2, y2, c]) => [x1 * s, y1 * s, x2 * s, y2 * s, c] as GroundTruthBox);
}

function paramsOf(engine: Engine, name: ModelName, notes: string[]): Params {
  const files = engine.files(MODELS[name].name);
  if (files) return loadModel(MODELS[name], files);
  if (name === 'fusion') throw new Error('no trained fusion weights are loaded: nothing to fine-tune');
  notes.push(`${name}: no trained weights available, so this fine-tune uses an untrained (randomly initialised) ${name}.`);
  return MODELS[name].init(0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Runs one fine-tune. Resolves with the result (also after `stop`); rejects with
 * CancelledError on cancel.
 */
export async function runTraining(
  req: TrainRequest, engine: Engine, backend: BackendName, control: TrainControl, sink: TrainSink,
): Promise<{ result: TrainResult; transfer: Transferable[] }> {
  const t0 = performance.now();
  const cfg = req.config;
  const info = strategyInfo(cfg.strategy);
  const notes: string[] = [];
  const check = () => {
    if (control.isCancelled()) throw new CancelledError('cancelled');
  };
  sink.progress({ step: 0, total: cfg.steps, etaS: NaN, losses: [], state: 'preparing' });

  // Which models: what the strategy requires, D for an adversarial term, S for task terms.
  const opts: Record<string, unknown> = { ...info.defaultOptions, ...cfg.options, lr: cfg.lr, totalSteps: cfg.steps };
  const taskOn = Number(opts.segmentation ?? 0) > 0 || Number(opts.detection ?? 0) > 0;
  const needed = new Set<ModelName>(info.requires);
  if (Number(opts.adversarial ?? 0) > 0) needed.add('discriminator');
  if (taskOn) needed.add('segdet');

  // Pairs, with task targets.
  const decoded: Decoded[] = [];
  for (const src of req.pairs) {
    check();
    decoded.push(await decodePair(src));
  }
  const pipe = engine.pipeline;
  const labelSources: Record<string, LabelSource> = {};
  const pairs: TrainPair[] = [];
  for (const d of decoded) {
    if (d.src.previewOnly) continue;
    check();
    const { width, height } = d.ir;
    const p: TrainPair = {
      stem: d.src.name, width, height, ir: imageToY(d.ir), vi: imageToY(d.vi), chroma: interleavedChroma(d.vi),
    };
    const scale = d.scale;
    if (d.label) {
      p.label = d.label;
      if (d.src.boxes) p.boxes = scaleBoxes(d.src.boxes, scale);
      labelSources[d.src.pairId] = 'label';
    } else if (taskOn && pipe.hasTasks) {
      // Pseudo-labels: the pretrained S on the pretrained F's fused image.
      const out = await pipe.run(d.ir, d.vi, TRAIN_MAX_SIDE);
      if (out.seg && out.width === width && out.height === height) {
        p.label = out.seg;
        p.boxes = out.detections.filter((b) => b[5] >= PSEUDO_BOX_SCORE).map((b) => [b[0], b[1], b[2], b[3], b[4]] as GroundTruthBox);
        labelSources[d.src.pairId] = 'pseudo';
      } else {
        labelSources[d.src.pairId] = 'none';
      }
    } else {
      if (d.src.boxes) p.boxes = scaleBoxes(d.src.boxes, scale);
      labelSources[d.src.pairId] = d.src.boxes ? 'label' : 'none';
    }
    pairs.push(p);
  }
  if (pairs.length === 0) throw new Error('no training pairs: choose at least one pair to train on');
  const nPseudo = Object.values(labelSources).filter((s) => s === 'pseudo').length;
  const nNone = Object.values(labelSources).filter((s) => s === 'none').length;
  if (taskOn) {
    notes.push(`Task targets: ${pairs.length - nPseudo - nNone} pair(s) with label PNGs/boxes, ${nPseudo} with pseudo-labels from the pretrained segmenter` +
      `${nNone ? `, ${nNone} without any (no segmenter for pseudo-labels)` : ''}.`);
    if (nNone > 0) {
      throw new Error(`${nNone} training pair(s) have no label and no segmenter is loaded to make pseudo-labels: ` +
        'set the segmentation and detection weights to 0, or train on labelled pairs only');
    }
  }

  // Copies of the models (the pretrained ones in the pipeline stay as they are).
  const loaded: Partial<Record<ModelName, Params>> = {};
  const disposeAll = () => { for (const p of Object.values(loaded)) disposeParams(p); };
  try {
    loaded.fusion = paramsOf(engine, 'fusion', notes);
    for (const name of needed) loaded[name] ??= paramsOf(engine, name, notes);
    const models: StrategyModels = {
      fusion: loaded.fusion, discriminator: loaded.discriminator, segdet: loaded.segdet, lossGenerator: loaded.lossGenerator,
    };
    const strategy = createStrategy(cfg.strategy, models, { ...cfg.options, lr: cfg.lr, totalSteps: cfg.steps });
    // Held-out pairs (bdl upper level, td meta batch): a quarter of three or more pairs, else the training pairs.
    const order = new Rng(deriveSeed(cfg.seed, 'held-out')).shuffle(pairs.map((_, i) => i));
    const k = strategy.usesHeldOut && pairs.length >= 3 ? Math.max(1, Math.round(pairs.length / 4)) : 0;
    const heldOutIdx = k ? order.slice(0, k) : pairs.map((_, i) => i);
    const trainIdx = k ? order.slice(k) : pairs.map((_, i) => i);
    if (strategy.usesHeldOut) {
      notes.push(k ? `${k} of ${pairs.length} pairs held out for the ${cfg.strategy === 'bdl' ? 'upper-level' : 'meta'} batch.`
        : `Fewer than 3 pairs: the ${cfg.strategy === 'bdl' ? 'upper-level' : 'meta'} batch is drawn from the training pairs.`);
    }

    const previewSrc = decoded.find((d) => d.src.pairId === req.previewPairId);
    const previewPipe = createPipeline({ fusion: loaded.fusion, segdet: loaded.fusion });
    const preview = async (step: number) => {
      if (!previewSrc) return;
      const r = await previewPipe.run(previewSrc.ir, previewSrc.vi, { maxSide: TRAIN_MAX_SIDE, tasks: false });
      const bmp = await rawToBitmap({ width: r.width, height: r.height, channels: 4, data: r.rgb });
      sink.preview(step, previewSrc.src.pairId, bmp);
    };

    const history: TrainResult['history'] = [];
    const times: number[] = [];
    let pending: TrainProgressReply['losses'] = [];
    let lastPost = 0;
    let first = true;
    let stopped = false;
    let step = 0;
    try {
      for (step = 1; step <= cfg.steps; step++) {
        // Let `trainControl` and `cancel` messages in: on WASM a step's awaits are only
        // microtasks, so without a macrotask turn the worker's onmessage would never run.
        await sleep(0);
        check();
        if (control.stop) {
          stopped = true;
          step -= 1;
          break;
        }
        if (control.paused) {
          sink.progress({ step: step - 1, total: cfg.steps, etaS: NaN, losses: pending, state: 'paused' });
          pending = [];
          while (control.paused && !control.stop) {
            check();
            await sleep(100);
          }
          step -= 1;
          continue;
        }
        const rng = new Rng(deriveSeed(cfg.seed, step));
        const crop = { batch: cfg.batch, cropHeight: cfg.crop, cropWidth: cfg.crop };
        const train = sampleCrops(pairs, { ...crop, indices: trainIdx }, rng);
        const heldOut = strategy.usesHeldOut ? sampleCrops(pairs, { ...crop, indices: heldOutIdx }, rng) : undefined;
        const log = await strategy.step({ train, heldOut });
        times.push(log.ms);
        const entry = { step, total: log.skipped ? NaN : log.total, terms: log.terms };
        history.push(entry);
        pending.push(entry);
        if (log.note) notes.push(log.note);
        const recent = times.slice(-10);
        const etaS = ((cfg.steps - step) * recent.reduce((a, b) => a + b, 0)) / recent.length / 1000;
        const now = performance.now();
        if (first || log.note || step === cfg.steps || now - lastPost >= 100) {
          sink.progress({
            step, total: cfg.steps, etaS, losses: pending, state: 'running',
            ...(log.note ? { note: log.note } : {}), ...(first ? { labelSources } : {}),
          });
          pending = [];
          lastPost = now;
          first = false;
        }
        if (cfg.previewEvery > 0 && step % cfg.previewEvery === 0 && step !== cfg.steps) await preview(step);
      }
      if (step > cfg.steps) step = cfg.steps;
      await preview(step);
    } finally {
      strategy.dispose();
    }

    // Weights of every model the strategy moved (F always).
    const weights: RunWeights = {};
    const transfer: Transferable[] = [];
    for (const name of new Set<ModelName>(['fusion', ...strategy.moves])) {
      const { modelJson, weightData } = await encodeWeights(loaded[name]!, {
        extra: { model: name, strategy: cfg.strategy, steps: step, seed: cfg.seed, options: strategy.options },
      });
      weights[name] = { modelJson: modelJson as unknown as Record<string, unknown>, weightData };
      transfer.push(weightData);
    }
    if (stopped) notes.push(`Stopped after ${step} of ${cfg.steps} steps.`);
    return {
      result: {
        weights, history, options: { ...strategy.options }, moves: [...strategy.moves], notes, labelSources,
        stopped, steps: step, seconds: (performance.now() - t0) / 1000, backend,
      },
      transfer,
    };
  } finally {
    disposeAll();
  }
}
