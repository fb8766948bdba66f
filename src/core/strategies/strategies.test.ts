import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { tinyCropBatch, useBackend } from '../testing';
import { MODELS, MODEL_NAMES, type ModelName } from '../models/registry';
import { disposeParams } from '../models/model-def';
import { resizeCropBatch, type CropBatch } from '../train/batch';
import type { Params } from '../types';
import { createStrategy, strategyInfo, STRATEGY_NAMES } from './registry';
import type { StrategyModels } from './types';
import { segdetParamNames } from '../models/segdet';

// Small and fast: 32×32 crops (S's stride), batch 1, WASM backend (the CPU backend's conv
// gradients are several times slower).
const SIZE = 32;
let models: Record<ModelName, Params>;

const batch = (seed: number, opts: { nan?: boolean } = {}): CropBatch => tinyCropBatch(seed, SIZE, opts);

type Snapshot = Record<ModelName, Record<string, number[]>>;
async function snapshot(): Promise<Snapshot> {
  const out = {} as Snapshot;
  for (const m of MODEL_NAMES) {
    out[m] = {};
    for (const [k, v] of Object.entries(models[m])) out[m][k] = Array.from(await v.data());
  }
  return out;
}
/** Names of the models any of whose parameters differ between two snapshots. */
function movedModels(a: Snapshot, b: Snapshot): ModelName[] {
  return MODEL_NAMES.filter((m) => Object.keys(a[m]).some((k) => a[m][k].some((v, i) => v !== b[m][k][i])));
}
function restore(s: Snapshot): void {
  tf.tidy(() => {
    for (const m of MODEL_NAMES) for (const [k, v] of Object.entries(models[m])) v.assign(tf.tensor(s[m][k], v.shape));
  });
}
function sameParams(a: Snapshot, b: Snapshot): boolean {
  return movedModels(a, b).length === 0;
}

const all = (): StrategyModels => ({
  fusion: models.fusion, discriminator: models.discriminator, segdet: models.segdet, lossGenerator: models.lossGenerator,
});

beforeAll(async () => {
  await useBackend('wasm');
  models = {
    fusion: MODELS.fusion.init(1), discriminator: MODELS.discriminator.init(2),
    segdet: MODELS.segdet.init(3), lossGenerator: MODELS.lossGenerator.init(4),
  };
});
afterAll(() => {
  for (const m of MODEL_NAMES) disposeParams(models[m]);
});

describe('each strategy moves exactly its parameters', () => {
  const cases: { name: 'fixed' | 'bdl' | 'td'; options: Record<string, unknown>; moves: ModelName[] }[] = [
    { name: 'fixed', options: { adversarial: 0.1, segmentation: 1, detection: 1 }, moves: ['fusion'] },
    { name: 'bdl', options: {}, moves: ['fusion', 'discriminator', 'segdet'] },
    { name: 'bdl', options: { trainS: false }, moves: ['fusion', 'discriminator'] },
    { name: 'bdl', options: { trainD: false, trainS: false }, moves: ['fusion'] },
    { name: 'bdl', options: { cWindow: 20, visualLoss: 'pretraining' }, moves: ['fusion', 'discriminator', 'segdet'] },
    { name: 'td', options: {}, moves: ['fusion', 'lossGenerator'] },
    { name: 'td', options: { taskTerm: 0.5, trainS: true }, moves: ['fusion', 'lossGenerator', 'segdet'] },
  ];
  for (const c of cases) {
    it(`${c.name} ${JSON.stringify(c.options)} moves ${c.moves.join(' + ')} only, without leaking tensors`, async () => {
      const s = createStrategy(c.name, all(), c.options as never);
      expect([...s.moves].sort()).toEqual([...c.moves].sort());
      const before = await snapshot();
      const log1 = await s.step({ train: batch(1), heldOut: batch(2) });
      const after1 = await snapshot();
      expect(log1.skipped).toBe(false);
      expect(log1.restored).toBe(false);
      expect(Number.isFinite(log1.total)).toBe(true);
      expect(Object.values(log1.terms).every(Number.isFinite)).toBe(true);
      expect(movedModels(before, after1).sort()).toEqual([...c.moves].sort());
      if (c.moves.includes('segdet') && c.name === 'bdl') {
        // Only S's heads are bdl's lower level by default: its backbone is as pretrained.
        const movedS = Object.keys(before.segdet).filter((k) => before.segdet[k].some((v, i) => v !== after1.segdet[k][i]));
        expect(movedS.length).toBeGreaterThan(0);
        expect(movedS.filter((k) => !segdetParamNames(['seg', 'det']).includes(k))).toEqual([]);
      }
      // Steady state: later steps leave no tensors behind.
      await s.step({ train: batch(3), heldOut: batch(4) });
      const n = tf.memory().numTensors;
      const log3 = await s.step({ train: batch(5), heldOut: batch(6) });
      expect(tf.memory().numTensors).toBe(n);
      expect(log3.step).toBe(3);
      expect(s.stepCount).toBe(3);
      s.dispose();
      // Put the models back for the next case (each case starts from the same weights).
      restore(before);
    });
  }

  it('creates and disposes without leaking', async () => {
    const n = tf.memory().numTensors;
    for (const name of STRATEGY_NAMES) {
      const s = createStrategy(name, all());
      await s.step({ train: batch(7) });
      s.dispose();
    }
    const pooled = createStrategy('bdl', all(), { cWindow: 5 });
    await pooled.step({ train: batch(7) });
    pooled.dispose();
    expect(tf.memory().numTensors).toBe(n);
  });
});

describe('strategy logs', () => {
  it('bdl reports task weights and c_k; with one-step windows, weights follow the loss ratios from step 3', async () => {
    const s = createStrategy('bdl', all(), { dwaWindow: 1 });
    const logs = [];
    for (let i = 0; i < 3; i++) logs.push(await s.step({ train: batch(10 + i), heldOut: batch(20 + i) }));
    expect(logs[0].stats['w.visual']).toBe(1);
    expect(logs[1].stats['w.task']).toBe(1);
    const r = [logs[1].terms.visual / logs[0].terms.visual, logs[1].terms.task / logs[0].terms.task];
    const e = r.map((q) => Math.exp(q / 2));
    expect(logs[2].stats['w.visual']).toBeCloseTo((2 * e[0]) / (e[0] + e[1]), 6);
    expect(Number.isFinite(logs[2].stats['c.visual'])).toBe(true);
    expect(Number.isFinite(logs[2].stats['c.task'])).toBe(true);
    expect(logs[2].stats['c.task']).not.toBe(0); // S's heads are the semantic lower level
    s.dispose();
    const frozen = createStrategy('bdl', all(), { trainS: false, trainD: false });
    const l = await frozen.step({ train: batch(13), heldOut: batch(23) });
    expect([l.stats['c.visual'], l.stats['c.task']]).toEqual([0, 0]); // frozen modules: no implicit terms
    frozen.dispose();
  });

  it('bdl with c_k over a window: the first pair gives the single-pair c_k, later ones differ from it', async () => {
    const before = await snapshot();
    const run = async (cWindow: number) => {
      const s = createStrategy('bdl', all(), { cWindow });
      const logs = [];
      for (let i = 0; i < 3; i++) logs.push(await s.step({ train: batch(40 + i), heldOut: batch(50 + i) }));
      s.dispose();
      restore(before);
      return logs.map((l) => [l.stats['c.visual'], l.stats['c.task']]);
    };
    const single = await run(1);
    const pooled = await run(10);
    expect(pooled[0][0]).toBeCloseTo(single[0][0], 4);
    expect(pooled[0][1]).toBeCloseTo(single[0][1], 4);
    expect(pooled[2][1]).not.toBeCloseTo(single[2][1], 4);
  });

  it('td with a second meta scale takes the task loss over both views, without leaking', async () => {
    const before = await snapshot();
    const wide = resizeCropBatch(tinyCropBatch(33, 2 * SIZE), SIZE, SIZE);
    const gAfter = async (options: Record<string, number>, heldOutScaled?: CropBatch[]) => {
      const s = createStrategy('td', all(), options);
      if (options.metaScale) expect(s.heldOutScales).toEqual([options.metaScale]);
      await s.step({ train: batch(30), heldOut: batch(31), ...(heldOutScaled ? { heldOutScaled } : {}) });
      const n = tf.memory().numTensors;
      await s.step({ train: batch(32), heldOut: batch(31), ...(heldOutScaled ? { heldOutScaled } : {}) });
      expect(tf.memory().numTensors).toBe(n);
      s.dispose();
      const g = (await snapshot()).lossGenerator;
      restore(before);
      return g;
    };
    const one = await gAfter({});
    const two = await gAfter({ metaScale: 0.5 }, [wide]);
    const k = Object.keys(one)[0];
    expect(two[k].some((v, i) => v !== one[k][i])).toBe(true);
  });

  it('td reports the virtual task loss, ε and the mean IR weight', async () => {
    const s = createStrategy('td', all());
    const log = await s.step({ train: batch(30), heldOut: batch(31) });
    expect(log.terms.taskVirtual).toBeGreaterThan(0);
    expect(log.terms.intensity).toBeGreaterThan(0);
    expect(log.terms.gradient).toBeGreaterThan(0);
    expect(log.stats.epsilon).toBeGreaterThan(0);
    expect(log.stats.meanWeightIR).toBeGreaterThan(0);
    expect(log.stats.meanWeightIR).toBeLessThan(1);
    s.dispose();
  });
});

describe('each step lowers its own objective (overfitting one tiny batch)', () => {
  const objective: Record<'fixed' | 'bdl' | 'td', (l: { total: number; terms: Record<string, number> }) => number> = {
    fixed: (l) => l.total,
    // The upper objectives F_k (before DWA's weights, which change between windows).
    bdl: (l) => l.terms.visual + l.terms.task,
    // θ's objective, the learnt fusion loss (G moves slowly meanwhile).
    td: (l) => l.total,
  };
  for (const name of STRATEGY_NAMES) {
    it(name, async () => {
      const start = await snapshot();
      const s = createStrategy(name, all(), { lr: 1e-3, clipNorm: 0 });
      const b = batch(70);
      const values: number[] = [];
      for (let i = 0; i < 8; i++) values.push(objective[name](await s.step({ train: b, heldOut: b })));
      s.dispose();
      restore(start);
      expect(values.every(Number.isFinite)).toBe(true);
      expect(values[7], values.map((v) => v.toFixed(4)).join(' ')).toBeLessThan(values[0]);
    });
  }
});

describe('non-finite guard', () => {
  it('skips a NaN step, restores the last good parameters, says so, and carries on', async () => {
    const s = createStrategy('fixed', all());
    const start = await snapshot();
    const ok = await s.step({ train: batch(40) });
    expect(ok.skipped).toBe(false);
    expect(sameParams(start, await snapshot())).toBe(false);
    // A NaN in the batch: the loss at the current parameters is NaN. The parameters go back to
    // those before the last step whose losses were finite (step 1), i.e. the start.
    const n = tf.memory().numTensors;
    const bad = await s.step({ train: batch(41, { nan: true }) });
    expect(tf.memory().numTensors).toBe(n);
    expect(bad.skipped).toBe(true);
    expect(bad.restored).toBe(true);
    expect(bad.note).toMatch(/step 2: non-finite loss '.*'; step skipped, parameters restored to those before step 1/);
    expect(sameParams(start, await snapshot())).toBe(true);
    const again = await s.step({ train: batch(42) });
    expect(again.skipped).toBe(false);
    expect(sameParams(start, await snapshot())).toBe(false);
    s.dispose();
    restore(start);
  });

  it('rolls back every trained model together (td: F and G) when the first step is bad', async () => {
    const s = createStrategy('td', all());
    const start = await snapshot();
    const bad = await s.step({ train: batch(50, { nan: true }), heldOut: batch(51) });
    expect(bad.skipped).toBe(true);
    expect(bad.note).toMatch(/parameters restored to those before this step/);
    expect(sameParams(start, await snapshot())).toBe(true);
    s.dispose();
  });
});

describe('registry', () => {
  it('describes every strategy and rejects bad options and missing models', () => {
    for (const name of STRATEGY_NAMES) expect(strategyInfo(name).requires).toContain('fusion');
    expect(() => createStrategy('fixed', all(), { intensty: 1 } as never)).toThrow(/unknown option 'intensty'/);
    expect(() => createStrategy('fixed', all(), { lr: '1' } as never)).toThrow(/'lr' must be a number/);
    expect(() => createStrategy('fixed', all(), { intensityMode: 'weighted' } as never)).toThrow(/one of max, mean, saliency/);
    expect(() => createStrategy('bdl', { fusion: models.fusion, segdet: models.segdet })).toThrow(/needs the discriminator/);
    expect(() => createStrategy('td', { fusion: models.fusion, segdet: models.segdet })).toThrow(/needs the loss generator/);
    expect(() => createStrategy('nope' as never, all())).toThrow(/unknown strategy 'nope'/);
    expect(() => createStrategy('td', all(), { fdRadius: 0.1 })).toThrow(/'fdRadius' must be within \[0.00001, 0.01\]/);
    expect(() => createStrategy('bdl', all(), { sParts: 'neck' } as never)).toThrow(/one of heads, decoder\+heads, all/);
  });

  it('asks for labels or boxes when the task terms are on', async () => {
    const s = createStrategy('fixed', all());
    const b = batch(60);
    await expect(s.step({ train: { ...b, label: undefined, boxes: undefined } })).rejects.toThrow(/need labels .* or boxes/);
    s.dispose();
  });
});
