/**
 * Task-adapted scoring in the worker: decodes the labelled pairs, adapts a copy of the pretrained
 * S's heads to one F's fused images with the core's `adaptTaskHeads` (the same seed, crops and K
 * for every F, as the CLI's `--adapt-task`), posting progress between steps (a macrotask turn
 * each, so `cancel` gets in), and returns the adapted S in the tfjs weights format.
 */
import { adaptTaskHeads, ADAPT_DEFAULTS } from '../core/train/adapt-task';
import { prepareTrainPairs } from '../core/train/pairs';
import { disposeParams } from '../core/models/model-def';
import { encodeWeights } from '../core/weights/io';
import type { AdaptTaskRequest, AdaptTaskResult } from '../protocol/messages';
import { CancelledError, paramsFromWeights, type Engine, type ProgressFn } from './engine';
import { decodePair, paramsOf } from './trainer';

export async function runAdaptTask(job: AdaptTaskRequest, engine: Engine, onProgress: ProgressFn, isCancelled: () => boolean): Promise<{ result: AdaptTaskResult; transfer: Transferable[] }> {
  const t0 = performance.now();
  const check = () => {
    if (isCancelled()) throw new CancelledError('cancelled');
  };
  if (!(job.steps >= 1 && Number.isInteger(job.steps))) throw new Error(`K must be a whole number of steps ≥ 1, got ${job.steps}`);
  onProgress(0, job.steps, 'reading the labelled pairs');
  const read = [];
  for (const src of job.pairs.filter((p) => p.label)) {
    check();
    const d = await decodePair(src);
    if (d.read.label) read.push(d.read);
  }
  if (!read.length) throw new Error('adapting S needs labelled pairs: load pairs with a label (label/ folder)');
  const { pairs } = await prepareTrainPairs(read, { taskOn: false, between: check });
  const notes: string[] = [];
  if (!engine.files('segdet')) throw new Error('no trained S weights are loaded: there is no S to adapt');
  const f = job.fusionWeights ? paramsFromWeights('fusion', job.fusionWeights) : paramsOf(engine, 'fusion', notes);
  const s = paramsOf(engine, 'segdet', notes);
  try {
    const adapted = await adaptTaskHeads(f, s, pairs, { ...ADAPT_DEFAULTS, steps: job.steps }, async (log) => {
      onProgress(log.step, job.steps, `S adapting: step ${log.step} of ${job.steps}`);
      await new Promise((r) => setTimeout(r, 0));
      check();
    });
    try {
      // float16, as the shipped S: half the bytes to store with the run.
      const { modelJson, weightData } = await encodeWeights(adapted, { float16: true, extra: { model: 'segdetAdapted', steps: job.steps } });
      return {
        result: {
          segdet: { modelJson: modelJson as unknown as Record<string, unknown>, weightData },
          steps: job.steps, pairNames: pairs.map((p) => p.stem), seconds: (performance.now() - t0) / 1000,
        },
        transfer: [weightData],
      };
    } finally {
      disposeParams(adapted);
    }
  } finally {
    disposeParams(f);
    disposeParams(s);
  }
}
