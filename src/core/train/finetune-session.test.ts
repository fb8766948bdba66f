import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../testing';
import { MODELS } from '../models/registry';
import { disposeParams } from '../models/model-def';
import { Rng } from '../nn/random';
import type { StrategyBatches, StrategyModels } from '../strategies/types';
import type { TrainPair } from './batch';
import { FinetuneSession } from './finetune-session';

const SIDE = 96;
let models: StrategyModels;

function pair(seed: number): TrainPair {
  const rng = new Rng(seed);
  return {
    stem: `p${seed}`, width: SIDE, height: SIDE, ir: rng.uniformArray(SIDE * SIDE), vi: rng.uniformArray(SIDE * SIDE),
    label: Uint8Array.from({ length: SIDE * SIDE }, (_, i) => (i % SIDE < 48 ? 1 : 0)), boxes: [[20, 20, 60, 70, 0]],
  };
}

beforeAll(async () => {
  await useBackend('wasm');
  models = {
    fusion: MODELS.fusion.init(1), discriminator: MODELS.discriminator.init(2), segdet: MODELS.segdet.init(3), lossGenerator: MODELS.lossGenerator.init(4),
  };
});
afterAll(() => Object.values(models).forEach((p) => p && disposeParams(p)));

describe('FinetuneSession', () => {
  it("draws the held-out pairs at the strategy's other scales: wider crops shown at the crop size", async () => {
    const pairs = [1, 2, 3, 4, 5].map(pair);
    const seen: StrategyBatches[] = [];
    const run = async (metaScale: number) => {
      const session = new FinetuneSession(models, pairs, { strategy: 'td', options: { metaScale }, steps: 1, batch: 2, crop: 32, seed: 3, heldOutFraction: 0.2 });
      const step = session.strategy.step;
      session.strategy.step = (b) => { seen.push(b); return step(b); };
      for await (const _ of session.run());
      session.dispose();
    };
    await run(0.5);
    await run(1);
    const [scaled, plain] = seen;
    expect(scaled.heldOutScaled).toHaveLength(1);
    const wide = scaled.heldOutScaled![0];
    expect([wide.batch, wide.height, wide.width]).toEqual([2, 32, 32]);
    // Half size: a box keeps half its sides (when the 64-px crop holds it whole).
    for (const bs of wide.boxes!) for (const b of bs) expect(b[2] - b[0]).toBeLessThanOrEqual(20 + 1e-9);
    expect(plain.heldOutScaled).toBeUndefined();
    // The batches drawn before the extra view are the same with and without it (seeded runs repeat).
    expect(scaled.train.irvi).toEqual(plain.train.irvi);
    expect(scaled.heldOut!.irvi).toEqual(plain.heldOut!.irvi);
  });
});
