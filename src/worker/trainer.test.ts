import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStrategy } from '../core/strategies/registry';
import { driveSession, strategyList, type TrainControl } from './trainer';
import { FinetuneSession, type FinetuneConfig } from '../core/train/finetune-session';
import { MODELS, MODEL_NAMES, type ModelName } from '../core/models/registry';
import type { Params } from '../core/types';
import { loadSplit } from '../cli/dataset';
import { loadModelFolderInto, saveModelFolder } from '../cli/weights-fs';
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
    for (const name of MODEL_NAMES) {
      const params = MODELS[name].init(5);
      await saveModelFolder(path.join(tmp, 'models', MODELS[name].name), params);
      disposeParams(params);
    }
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  const running: TrainControl = { paused: false, stop: false, isCancelled: () => false };

  /** The worker's driver over models loaded from the same folder as the CLI's. */
  async function workerRun(config: FinetuneConfig, control = running, onProgress?: (step: number) => void) {
    const loaded = {} as Record<ModelName, Params>;
    for (const name of MODEL_NAMES) {
      loaded[name] = MODELS[name].init(0);
      await loadModelFolderInto(path.join(tmp, 'models', MODELS[name].name), loaded[name]);
    }
    const pairs = await loadSplit(FIXTURES);
    const session = new FinetuneSession(loaded, pairs, config);
    try {
      return await driveSession(session, control, { progress: (p) => onProgress?.(p.step) });
    } finally {
      session.dispose();
      for (const p of Object.values(loaded)) disposeParams(p);
    }
  }

  it('gives the same losses, step for step, through the worker and the CLI', async () => {
    const config: FinetuneConfig = { strategy: 'bdl', options: { segmentation: 1, detection: 0.5 }, steps: 3, batch: 1, crop: 64, seed: 9, heldOutFraction: 0.5 };
    const out = path.join(tmp, 'cli-run');
    const cli = await runFinetune({
      strategy: 'bdl', data: '(unused)', train: FIXTURES, models: path.join(tmp, 'models'), out,
      steps: 3, batch: 1, crop: 64, seed: 9, backend: 'wasm', heldOut: 0.5,
      strategyOptions: config.options as Record<string, number>, evaluate: false, log: () => {},
    });
    const worker = await workerRun(config);
    expect(worker.history.map((h) => h.step)).toEqual([1, 2, 3]);
    expect(worker.history.map((h) => h.total)).toEqual(cli.logs.map((l) => l.total));
    expect(worker.history.map((h) => h.terms)).toEqual(cli.logs.map((l) => l.terms));
    expect(worker.history.map((h) => h.stats)).toEqual(cli.logs.map((l) => l.stats));
    expect(worker.history.every((h) => Number.isFinite(h.total))).toBe(true);
  });

  it('stops between steps, keeping the steps taken', async () => {
    const control: TrainControl = { paused: false, stop: false, isCancelled: () => false };
    const run = await workerRun({ strategy: 'fixed', options: {}, steps: 5, batch: 1, crop: 64, seed: 1 }, control, (step) => {
      if (step >= 2) control.stop = true; // progress is posted at most every 100 ms
    });
    expect(run.stopped).toBe(true);
    expect(run.steps).toBeGreaterThanOrEqual(2);
    expect(run.steps).toBeLessThan(5);
    expect(run.history.map((h) => h.step)).toEqual(Array.from({ length: run.steps }, (_, i) => i + 1));
  });
});
