/**
 * Fine-tuning in the worker: decodes the chosen pairs into training pairs (labels from label
 * PNGs, otherwise pseudo-labels from the pretrained S), copies the models the session needs
 * (the pretrained ones are never touched), drives the core's `FinetuneSession` (the CLI drives
 * the same one) with pause / resume / stop, posts losses and an ETA, re-fuses a preview pair
 * every N steps, and returns the moved models' weights in the tfjs weights format.
 */
import type { GroundTruthBox, Params, RawImage } from '../core/types';
import { labelIndices } from '../core/image/label';
import { imageToY, interleavedChroma } from '../core/image/color';
import { MODELS, type ModelName } from '../core/models/registry';
import { disposeParams } from '../core/models/model-def';
import { createPipeline, fitVisible } from '../core/pipeline';
import type { TrainPair } from '../core/train/batch';
import { FinetuneSession, modelsNeeded, taskTermsOn } from '../core/train/finetune-session';
import { STRATEGY_NAMES, strategyInfo } from '../core/strategies/registry';
import type { StrategyModels } from '../core/strategies/types';
import { encodeWeights } from '../core/weights/io';
import type {
  BackendName, LabelSource, LossPoint, RunWeights, StrategyInfoData, TrainPairSource, TrainProgressReply, TrainRequest, TrainResult,
} from '../protocol/messages';
import { bitmapToLabel, bitmapToRaw, decodeBitmap, rawToBitmap } from './decode';
import { CancelledError, type Engine } from './engine';
import { loadModel } from './pipeline-adapter';
import { median } from '../core/stats';
import { appendHistory, NOTES_MAX } from '../core/runs/record';

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
  /**
   * The run as it stands after a step, read back from the device: what is kept if the device
   * is lost before the end (see {@link CHECKPOINT_EVERY_MS}).
   */
  checkpoint?(run: { result: TrainResult; transfer: Transferable[] }): void;
}

/**
 * A fine-tune reads its weights back to the host after its first step and then at most this
 * often, so that a lost GPU device (whose tensors cannot be read any more) costs at most this
 * much training: the run stops there with the steps it had.
 */
export const CHECKPOINT_EVERY_MS = 5000;

/** The strategies for the UI's picker. */
export function strategyList(): StrategyInfoData[] {
  return STRATEGY_NAMES.map((n) => {
    const i = strategyInfo(n);
    return {
      name: i.name, label: i.label, description: i.description, requires: [...i.requires], mayMove: [...i.mayMove],
      defaultOptions: { ...i.defaultOptions },
      choices: Object.fromEntries(Object.entries(i.choices).map(([k, v]) => [k, [...v]])),
      bounds: Object.fromEntries(Object.entries(i.bounds).map(([k, [lo, hi]]) => [k, [lo, hi]])),
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
  try {
    vi = fitVisible(vi, width, height, src.aspect ?? 'refuse').vi;
  } catch (e) {
    throw new Error(`pair ${src.name}: ${(e as Error).message}`);
  }
  let label: Uint8Array | null = null;
  if (src.label) {
    try {
      const lb = await decodeBitmap(src.label);
      try {
        if (lb.width === full.width && lb.height === full.height) {
          label = labelIndices({ width, height, channels: 1, data: bitmapToLabel(lb, { width, height }) });
        }
      } finally {
        lb.close();
      }
    } catch { /* unreadable or not a class map: treated as absent */ }
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

/** What {@link driveSession} hands the page while it runs. */
export interface SessionSink {
  progress(p: Omit<TrainProgressReply, 'id' | 'type'>): void;
  /** Called every `previewEvery` steps (not at the last). */
  preview?(step: number): Promise<void>;
  /** Called after the first step and then every {@link CHECKPOINT_EVERY_MS} (not at the last). */
  checkpoint?(step: number, history: readonly LossPoint[], notes: readonly string[]): Promise<void>;
}

/**
 * The worker's driver of a fine-tune session: lets control messages in between steps, pauses
 * (by not pulling the next step), stops (keeping the steps taken), posts batched progress at
 * most every 100 ms, and re-fuses the preview every `previewEvery` steps.
 * @throws CancelledError when cancelled.
 */
export async function driveSession(
  session: FinetuneSession, control: TrainControl, sink: SessionSink, previewEvery = 0,
): Promise<{ history: LossPoint[]; notes: string[]; stopped: boolean; steps: number }> {
  const total = session.config.steps;
  let history: LossPoint[] = [];
  const notes: string[] = [];
  let pending: LossPoint[] = [];
  let lastPost = 0;
  let lastCheckpoint = -Infinity;
  let stopped = false;
  const stepMs: number[] = [];
  const msPerStep = () => median(stepMs.length > 1 ? stepMs.slice(1).slice(-STEP_TIME_WINDOW) : stepMs);
  const check = () => {
    if (control.isCancelled()) throw new CancelledError('cancelled');
  };
  const gate = async (): Promise<boolean> => {
    // Let `trainControl` and `cancel` messages in: on WASM a step's awaits are only
    // microtasks, so without a macrotask turn the worker's onmessage would never run.
    await sleep(0);
    check();
    if (control.paused && !control.stop) {
      sink.progress({ step: session.stepsDone, total, etaS: NaN, msPerStep: msPerStep(), losses: pending, state: 'paused' });
      pending = [];
      while (control.paused && !control.stop) {
        check();
        await sleep(100);
      }
    }
    return !control.stop;
  };
  if (total > 0 && !(await gate())) return { history, notes, stopped: true, steps: 0 };
  for await (const { step, log, etaS } of session.run()) {
    const entry: LossPoint = { step, total: log.skipped ? NaN : log.total, terms: log.terms, stats: log.stats };
    history = appendHistory(history, [entry]);
    pending.push(entry);
    if (log.note && notes.length < NOTES_MAX) notes.push(log.note);
    stepMs.push(log.ms);
    const now = performance.now();
    if (step === 1 || log.note || step === total || now - lastPost >= 100) {
      sink.progress({ step, total, etaS, msPerStep: msPerStep(), losses: pending, state: 'running', ...(log.note ? { note: log.note } : {}) });
      pending = [];
      lastPost = now;
    }
    if (previewEvery > 0 && step % previewEvery === 0 && step !== total) await sink.preview?.(step);
    if (sink.checkpoint && step !== total && performance.now() - lastCheckpoint >= CHECKPOINT_EVERY_MS) {
      await sink.checkpoint(step, history, notes);
      lastCheckpoint = performance.now();
    }
    if (step < total && !(await gate())) {
      stopped = true;
      break;
    }
  }
  return { history, notes, stopped, steps: session.stepsDone };
}

/** Steps the reported time per step is the median of. */
const STEP_TIME_WINDOW = 10;

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
  sink.progress({ step: 0, total: cfg.steps, etaS: NaN, msPerStep: NaN, losses: [], state: 'preparing' });

  // Which models: what the session needs (D for an adversarial term, S for task terms).
  const opts: Record<string, unknown> = { ...cfg.options, lr: cfg.lr };
  const taskOn = taskTermsOn({ ...info.defaultOptions, ...opts });
  const needed = modelsNeeded(cfg.strategy, opts);

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
      const out = await pipe.run(d.ir, d.vi, { maxSide: TRAIN_MAX_SIDE });
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
    const session = new FinetuneSession(models, pairs, {
      strategy: cfg.strategy, options: opts, steps: cfg.steps, batch: cfg.batch, crop: cfg.crop, seed: cfg.seed,
    });
    const strategy = session.strategy;
    notes.push(...session.notes);

    const previewSrc = decoded.find((d) => d.src.pairId === req.previewPairId);
    const previewPipe = createPipeline({ fusion: loaded.fusion, segdet: loaded.fusion });
    const preview = async (step: number) => {
      if (!previewSrc) return;
      const r = await previewPipe.run(previewSrc.ir, previewSrc.vi, { maxSide: TRAIN_MAX_SIDE, tasks: false });
      const bmp = await rawToBitmap({ width: r.width, height: r.height, channels: 4, data: r.rgb });
      sink.preview(step, previewSrc.src.pairId, bmp);
    };

    /** The run after `step` steps: the weights of every model the strategy moved (F always). */
    const runAt = async (step: number, history: readonly LossPoint[], runNotes: readonly string[], stopped: boolean) => {
      const weights: RunWeights = {};
      const transfer: Transferable[] = [];
      for (const name of new Set<ModelName>(['fusion', ...strategy.moves])) {
        const { modelJson, weightData } = await encodeWeights(loaded[name]!, {
          extra: { model: name, strategy: cfg.strategy, steps: step, seed: cfg.seed, options: strategy.options },
        });
        weights[name] = { modelJson: modelJson as unknown as Record<string, unknown>, weightData };
        transfer.push(weightData);
      }
      const result: TrainResult = {
        weights, history: [...history], options: { ...strategy.options }, moves: [...strategy.moves],
        notes: [...notes, ...runNotes, ...(stopped ? [`Stopped after ${step} of ${cfg.steps} steps.`] : [])], labelSources,
        stopped, steps: step, seconds: (performance.now() - t0) / 1000, backend,
      };
      return { result, transfer };
    };

    let run: Awaited<ReturnType<typeof driveSession>>;
    let first = true;
    try {
      run = await driveSession(session, control, {
        progress: (p) => {
          // The first post says where each pair's task targets came from.
          sink.progress(first && p.state === 'running' ? { ...p, labelSources } : p);
          if (p.state === 'running') first = false;
        },
        preview,
        ...(sink.checkpoint ? { checkpoint: async (step, history, runNotes) => sink.checkpoint!(await runAt(step, history, runNotes, true)) } : {}),
      }, cfg.previewEvery);
      await preview(run.steps);
    } finally {
      session.dispose();
    }
    return await runAt(run.steps, run.history, run.notes, run.stopped);
  } finally {
    disposeAll();
  }
}
