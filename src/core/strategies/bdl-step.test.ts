/**
 * bdl's step takes θ's gradient Σ_k w_k·h_k in one pass over the held-out and training crops
 * stacked, and c_k from the lower levels' y-gradients (S's heads on shared features). This holds
 * that against the hypergradient assembled term by term: each gradient of the derivation in its
 * own pass, combined by `bdlHypergradient`.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { tinyCropBatch, useBackend } from '../testing';
import { MODELS, MODEL_NAMES, type ModelName } from '../models/registry';
import { disposeParams } from '../models/model-def';
import { fusion } from '../models/fusion';
import { discriminator } from '../models/discriminator';
import { segdetParamNames } from '../models/segdet';
import { bdlFusionLoss, generatorAdversarialLoss, irSaliency, saliencyTarget } from '../losses/fusion-losses';
import { discriminatorObjective } from '../train/objectives';
import { FlatLayout } from '../train/flat';
import type { Params } from '../types';
import { BDL_DEFAULTS, bdlHypergradient, createBdl } from './bdl';
import { TrainGroup, lossAndGrads } from './step-runner';
import { batchTensors, type BatchTensors } from './batch-tensors';
import { taskObjective } from './task-terms';

let models: Record<ModelName, Params>;
beforeAll(async () => {
  await useBackend('cpu');
  models = Object.fromEntries(MODEL_NAMES.map((m, i) => [m, MODELS[m].init(i + 1)])) as Record<ModelName, Params>;
});
afterAll(() => {
  for (const m of MODEL_NAMES) disposeParams(models[m]);
});

const relativeL2 = (a: Float32Array, b: Float32Array) => {
  let d = 0, n = 0;
  for (let i = 0; i < a.length; i++) { d += (a[i] - b[i]) ** 2; n += a[i] ** 2; }
  return Math.sqrt(d / n);
};

describe('bdl step', () => {
  it('moves θ along Σ_k w_k·h_k and reports the c_k of the term-by-term hypergradient', async () => {
    const [F, D, S] = [models.fusion, models.discriminator, models.segdet];
    const yS: Params = Object.fromEntries(segdetParamNames(['seg', 'det']).map((n) => [n, S[n]]));
    // A large η, so that the implicit terms (η·c_k·∇θ f̃_k) weigh in the comparison.
    const o = { ...BDL_DEFAULTS, eta: 0.5 };
    const trainBatch = tinyCropBatch(1), heldOutBatch = tinyCropBatch(2);

    // The reference, every gradient in its own pass at the same point.
    const ref = tf.tidy(() => {
      const tr = batchTensors(trainBatch, 32), va = batchTensors(heldOutBatch, 32);
      const visual = (t: BatchTensors) => () => {
        const fused = fusion.apply(F, t.x);
        const fl = bdlFusionLoss(fused, t.ir, t.vi, { ssimWeight: o.ssimWeight });
        return { total: tf.add(fl, tf.mul(generatorAdversarialLoss(discriminator.apply(D, fused)), o.adversarial)) as tf.Scalar, terms: {} };
      };
      const ownD = (t: BatchTensors) => {
        const fake = tf.tidy(() => fusion.apply(F, t.x));
        const real = saliencyTarget(t.ir, t.vi, irSaliency(t.ir));
        return lossAndGrads(() => discriminatorObjective(discriminator.apply(D, real), discriminator.apply(D, fake)), { discriminator: D });
      };
      const task = (t: BatchTensors) => lossAndGrads(() => taskObjective(S, fusion.apply(F, t.x), t, o), { fusion: F, segdet: yS });
      const upS = task(va), lowS = task(tr);
      const hD = bdlHypergradient({
        upperTheta: lossAndGrads(visual(va), { fusion: F }).grads.fusion!, heldOutY: ownD(va).grads.discriminator!,
        lowerY: ownD(tr).grads.discriminator!, lowerTildeTheta: lossAndGrads(visual(tr), { fusion: F }).grads.fusion!,
      }, o.eta, o.cMax);
      const hS = bdlHypergradient({
        upperTheta: upS.grads.fusion!, heldOutY: upS.grads.segdet!, lowerY: lowS.grads.segdet!, lowerTildeTheta: lowS.grads.fusion!,
      }, o.eta, o.cMax);
      // The first step: w = (1, 1).
      const layout = new FlatLayout(F);
      return { g: tf.add(layout.flatten(hD.h), layout.flatten(hS.h)), cVisual: hD.c, cTask: hS.c };
    });
    const want = (await ref.g.data()) as Float32Array;
    const [cVisual, cTask] = [(await ref.cVisual.data())[0], (await ref.cTask.data())[0]];
    tf.dispose([ref.g, ref.cVisual, ref.cTask]);

    // The strategy's gradient for F, as handed to its optimiser.
    let got: Float32Array | null = null;
    const apply = TrainGroup.prototype.apply;
    const spy = vi.spyOn(TrainGroup.prototype, 'apply').mockImplementation(function (this: TrainGroup, g, lr, clip) {
      if (this.model === 'fusion') got = g.dataSync() as Float32Array;
      return apply.call(this, g, lr, clip);
    });
    const s = createBdl({ fusion: F, discriminator: D, segdet: S }, { eta: o.eta });
    const log = await s.step({ train: trainBatch, heldOut: heldOutBatch });
    s.dispose();
    spy.mockRestore();

    expect(log.skipped).toBe(false);
    expect(log.stats['c.visual']).toBeCloseTo(cVisual, 4);
    expect(log.stats['c.task']).toBeCloseTo(cTask, 4);
    expect(Math.abs(cVisual) + Math.abs(cTask)).toBeGreaterThan(0);
    expect(got).not.toBeNull();
    expect(relativeL2(want, got!)).toBeLessThan(1e-4);
  }, 120_000);
});
