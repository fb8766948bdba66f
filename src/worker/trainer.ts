/**
 * Fine-tuning in the worker: decodes the chosen pairs (the core's `prepareTrainPairs` gives
 * them their task targets, as it does for the CLI), copies the models the session needs (the
 * pretrained ones are never touched), drives the core's `FinetuneSession` with the spec as the
 * page sent it, with pause / resume / stop, posts losses and an ETA, re-fuses a preview pair
 * every N steps, and returns the moved models' weights in the tfjs weights format.
 */
import type { GroundTruthBox, Params } from '../core/types';
import { MODELS, type ModelName } from '../core/models/registry';
import { disposeParams } from '../core/models/model-def';
import { createPipeline, fitVisible } from '../core/pipeline';
import { FinetuneSession, modelsNeeded, taskTermsOn } from '../core/train/finetune-session';
import { prepareTrainPairs, TRAIN_MAX_SIDE, type ReadPair } from '../core/train/pairs';
import { resolveSpec, STRATEGY_NAMES, strategyInfo } from '../core/strategies/registry';
import type { StrategyModels } from '../core/strategies/types';
import { encodeWeights } from '../core/weights/io';
import type {
  BackendName, LossPoint, RunWeights, StrategyInfoData, TrainPairSource, TrainProgressReply, TrainRequest, TrainResult,
} from '../protocol/messages';
import { bitmapToRaw, decodeBitmap, rawToBitmap, readLabel } from './decode';
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
      defaultOptions: { ...i.defaultOptions }, defaultSpec: resolveSpec({ strategy: n }), usesHeldOut: i.usesHeldOut,
      choices: Object.fromEntries(Object.entries(i.choices).map(([k, v]) => [k, [...v]])),
      bounds: Object.fromEntries(Object.entries(i.bounds).map(([k, [lo, hi]]) => [k, [lo, hi]])),
    };
  });
}

/** A pair read for training, and why its label was left out when it was. */
export async function decodePair(src: TrainPairSource): Promise<{ read: ReadPair; note?: string }> {
  const [irB, viB] = await Promise.all([decodeBitmap(src.ir), decodeBitmap(src.vi)]);
  const full = { width: irB.width, height: irB.height };
  const sx = Math.min(1, TRAIN_MAX_SIDE / Math.max(full.width, full.height));
  const size = { width: Math.round(full.width * sx), height: Math.round(full.height * sx) };
  const ir = bitmapToRaw(irB, size, true);
  let vi = bitmapToRaw(viB, { width: viB.width, height: viB.height }, false);
  irB.close();
  viB.close();
  try {
    vi = fitVisible(vi, size.width, size.height, src.aspect ?? 'refuse').vi;
  } catch (e) {
    throw new Error(`pair ${src.name}: ${(e as Error).message}`);
  }
  const read: ReadPair = { key: src.pairId, stem: src.name, ir, vi, ...(src.boxes ? { boxes: scaleBoxes(src.boxes, size.width / full.width) } : {}) };
  if (!src.label) return { read };
  const checked = await readLabel(src.label, full, size);
  return 'indices' in checked ? { read: { ...read, label: checked.indices } } : { read, note: `${src.name}: ${checked.message}` };
}

function scaleBoxes(boxes: [number, number, number, number, number][], s: number): GroundTruthBox[] {
  return boxes.map(([x1, y1, x2, y2, c]) => [x1 * s, y1 * s, x2 * s, y2 * s, c] as GroundTruthBox);
}

export function paramsOf(engine: Engine, name: ModelName, notes: string[]): Params {
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
  const total = session.spec.steps;
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
  // Checked and completed once, before any pair is decoded; the session takes it as it is.
  const spec = resolveSpec(req.spec);
  const notes: string[] = [];
  const check = () => {
    if (control.isCancelled()) throw new CancelledError('cancelled');
  };
  sink.progress({ step: 0, total: spec.steps, etaS: NaN, msPerStep: NaN, losses: [], state: 'preparing' });

  // Which models: what the session needs (D for an adversarial term, S for task terms).
  const taskOn = taskTermsOn(spec.options);
  const needed = modelsNeeded(spec.strategy, spec.options);

  // Pairs, with task targets.
  const decoded: { src: TrainPairSource; read: ReadPair }[] = [];
  for (const src of req.pairs) {
    check();
    const d = await decodePair(src);
    if (d.note) notes.push(d.note);
    decoded.push({ src, read: d.read });
  }
  const pipe = engine.pipeline;
  const { pairs, labelSources, notes: targetNotes } = await prepareTrainPairs(decoded.filter((d) => !d.src.previewOnly).map((d) => d.read), {
    taskOn, between: check,
    ...(pipe.hasTasks ? { pseudoLabel: (ir, vi) => pipe.run(ir, vi, { maxSide: TRAIN_MAX_SIDE }) } : {}),
  });
  notes.push(...targetNotes);

  // Copies of the models (the pretrained ones in the pipeline stay as they are).
  const loaded: Partial<Record<ModelName, Params>> = {};
  const disposeAll = () => { for (const p of Object.values(loaded)) disposeParams(p); };
  try {
    loaded.fusion = paramsOf(engine, 'fusion', notes);
    for (const name of needed) loaded[name] ??= paramsOf(engine, name, notes);
    const models: StrategyModels = {
      fusion: loaded.fusion, discriminator: loaded.discriminator, segdet: loaded.segdet, lossGenerator: loaded.lossGenerator,
    };
    const session = new FinetuneSession(models, pairs, spec);
    const strategy = session.strategy;
    notes.push(...session.notes);

    const previewSrc = decoded.find((d) => d.src.pairId === req.previewPairId);
    const previewPipe = createPipeline({ fusion: loaded.fusion });
    const preview = async (step: number) => {
      if (!previewSrc) return;
      const r = await previewPipe.run(previewSrc.read.ir, previewSrc.read.vi, { maxSide: TRAIN_MAX_SIDE, tasks: false });
      const bmp = await rawToBitmap({ width: r.width, height: r.height, channels: 4, data: r.rgb });
      sink.preview(step, previewSrc.src.pairId, bmp);
    };

    /** The run after `step` steps: the weights of every model the strategy moved (F always). */
    const runAt = async (step: number, history: readonly LossPoint[], runNotes: readonly string[], stopped: boolean) => {
      const weights: RunWeights = {};
      const transfer: Transferable[] = [];
      for (const name of new Set<ModelName>(['fusion', ...strategy.moves])) {
        const { modelJson, weightData } = await encodeWeights(loaded[name]!, {
          extra: { model: name, spec: session.spec, steps: step },
        });
        weights[name] = { modelJson: modelJson as unknown as Record<string, unknown>, weightData };
        transfer.push(weightData);
      }
      const result: TrainResult = {
        weights, history: [...history], spec: session.spec, moves: [...strategy.moves],
        notes: [...notes, ...runNotes, ...(stopped ? [`Stopped after ${step} of ${spec.steps} steps.`] : [])], labelSources,
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
      }, req.previewEvery);
      await preview(run.steps);
    } finally {
      session.dispose();
    }
    return await runAt(run.steps, run.history, run.notes, run.stopped);
  } finally {
    disposeAll();
  }
}
