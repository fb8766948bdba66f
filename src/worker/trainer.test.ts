import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStrategy } from '../core/strategies/registry';
import { driveSession, strategyList, type TrainControl } from './trainer';
import { FinetuneSession, taskTermsOn } from '../core/train/finetune-session';
import { prepareTrainPairs, TRAIN_MAX_SIDE } from '../core/train/pairs';
import { createPipeline } from '../core/pipeline';
import type { FinetuneSpec } from '../core/strategies/registry';
import { MODELS, MODEL_NAMES, type ModelName } from '../core/models/registry';
import type { Params } from '../core/types';
import { loadSplit } from '../cli/dataset';
import { loadModelFolderInto } from '../cli/weights-fs';
import { saveStandInModels } from '../cli/stand-in-models.test-helper';
import { runFinetune } from '../cli/finetune';
import { fusion } from '../core/models/fusion';
import { segdet } from '../core/models/segdet';
import { lossGenerator } from '../core/models/loss-generator';
import { discriminator } from '../core/models/discriminator';
import { disposeParams } from '../core/models/model-def';
import { useBackend } from '../cli/node-backend';

describe('strategyList (what the UI picker shows)', () => {
  it('lists fixed, bdl and td with their defaults and a choice list for every string option', () => {
    const list = strategyList();
    expect(list.map((s) => s.name)).toEqual(['fixed', 'bdl', 'td']);
    for (const s of list) {
      for (const [k, v] of Object.entries(s.defaultOptions)) {
        if (typeof v === 'string') expect(s.choices[k], `${s.name}.${k}`).toContain(v);
      }
    }
  });

  it('offers only choices the strategies accept', async () => {
    await useBackend('cpu');
    const models = { fusion: fusion.init(0), segdet: segdet.init(0), lossGenerator: lossGenerator.init(0), discriminator: discriminator.init(0) };
    try {
      for (const s of strategyList()) {
        for (const [k, choices] of Object.entries(s.choices)) {
          for (const c of choices) createStrategy(s.name, models, { [k]: c }).dispose();
        }
      }
    } finally {
      for (const p of Object.values(models)) disposeParams(p);
    }
  });
});

describe('one fine-tune session, two drivers', () => {
  const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-fixtures/pairs');
  let tmp: string;
  beforeAll(async () => {
    await useBackend('wasm');
    tmp = await mkdtemp(path.join(tmpdir(), 'session-'));
    await saveStandInModels(path.join(tmp, 'models'), 5);
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  const running: TrainControl = { paused: false, stop: false, isCancelled: () => false };

  /**
   * The worker's driver over models loaded from the same folder as the CLI's, and its pairs
   * given their targets as the worker does (pseudo-labels from the pretrained F and S).
   */
  async function workerRun(spec: FinetuneSpec, control = running, onProgress?: (step: number) => void, dir = FIXTURES) {
    const loaded = {} as Record<ModelName, Params>;
    for (const name of MODEL_NAMES) {
      loaded[name] = MODELS[name].init(0);
      await loadModelFolderInto(path.join(tmp, 'models', MODELS[name].name), loaded[name]);
    }
    const pretrained = createPipeline({ fusion: loaded.fusion, segdet: loaded.segdet });
    const { pairs, labelSources } = await prepareTrainPairs(await loadSplit(dir), {
      taskOn: taskTermsOn(spec.options), pseudoLabel: (ir, vi) => pretrained.run(ir, vi, { maxSide: TRAIN_MAX_SIDE }),
    });
    const session = new FinetuneSession(loaded, pairs, spec);
    try {
      return { labelSources, ...(await driveSession(session, control, { progress: (p) => onProgress?.(p.step) })) };
    } finally {
      session.dispose();
      for (const p of Object.values(loaded)) disposeParams(p);
    }
  }

  const sameRun = async (spec: FinetuneSpec, dir: string) => {
    const lines: string[] = [];
    const cli = await runFinetune({
      spec, data: '(unused)', train: dir, models: path.join(tmp, 'models'), out: path.join(tmp, `cli-run-${path.basename(dir)}`),
      backend: 'wasm', evaluate: false, log: (l) => lines.push(l),
    });
    const worker = await workerRun(spec, running, undefined, dir);
    expect(worker.history.map((h) => h.step)).toEqual([1, 2, 3]);
    expect(worker.history.map((h) => h.total)).toEqual(cli.logs.map((l) => l.total));
    expect(worker.history.map((h) => h.terms)).toEqual(cli.logs.map((l) => l.terms));
    expect(worker.history.map((h) => h.stats)).toEqual(cli.logs.map((l) => l.stats));
    expect(worker.history.every((h) => Number.isFinite(h.total))).toBe(true);
    return { lines, worker };
  };

  it('gives the same losses, step for step, through the worker and the CLI', async () => {
    await sameRun({ strategy: 'bdl', options: { segmentation: 1, detection: 0.5 }, steps: 3, batch: 1, crop: 64, seed: 9, heldOutFraction: 0.5 }, FIXTURES);
  });

  it('and for an unlabelled pair, which both give pseudo-labels from the pretrained F and S', async () => {
    const dir = path.join(tmp, 'one-unlabelled');
    await cp(FIXTURES, dir, { recursive: true });
    await rm(path.join(dir, 'label', '00964N.png'));
    const { lines, worker } = await sameRun({ strategy: 'fixed', options: { segmentation: 1, detection: 0.5 }, steps: 3, batch: 2, crop: 64, seed: 4, heldOutFraction: 0.2 }, dir);
    expect(worker.labelSources).toEqual({ '00200D': 'label', '00964N': 'pseudo' });
    expect(lines).toContain('Task targets: 1 pair(s) with label PNGs/boxes, 1 with pseudo-labels from the pretrained segmenter.');
  });

  it('stops between steps, keeping the steps taken', async () => {
    const control: TrainControl = { paused: false, stop: false, isCancelled: () => false };
    const run = await workerRun({ strategy: 'fixed', options: {}, steps: 5, batch: 1, crop: 64, seed: 1, heldOutFraction: 0.2 }, control, (step) => {
      if (step >= 2) control.stop = true; // progress is posted at most every 100 ms
    });
    expect(run.stopped).toBe(true);
    expect(run.steps).toBeGreaterThanOrEqual(2);
    expect(run.steps).toBeLessThan(5);
    expect(run.history.map((h) => h.step)).toEqual(Array.from({ length: run.steps }, (_, i) => i + 1));
  });
});
