import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing';
import { Rng } from '../nn/random';
import { fusion } from '../models/fusion';
import { segdet, segdetParamNames } from '../models/segdet';
import { disposeParams } from '../models/model-def';
import type { Params } from '../types';
import { adaptTaskHeads } from './adapt-task';
import type { TrainPair } from './batch';

/** Two seeded 96×96 pairs, one labelled (a block of car, a person box), one not. */
function pairs(): TrainPair[] {
  const rng = new Rng(3);
  const n = 96 * 96;
  const label = new Uint8Array(n);
  for (let i = 0; i < n; i++) label[i] = (i % 96) < 40 && Math.floor(i / 96) < 50 ? 1 : 0;
  const pair = (stem: string, withLabel: boolean): TrainPair => ({
    stem, width: 96, height: 96, ir: rng.uniformArray(n), vi: rng.uniformArray(n), chroma: rng.uniformArray(2 * n),
    ...(withLabel ? { label, boxes: [[10, 10, 40, 60, 0]] } : {}),
  });
  return [pair('a', true), pair('b', false)];
}

describe('adaptTaskHeads', () => {
  let f: Params, s: Params;
  beforeAll(async () => {
    await useBackend('cpu');
    f = fusion.init(1);
    s = segdet.init(2);
  });
  afterAll(() => { disposeParams(f); disposeParams(s); });

  const values = async (p: Params, names: string[]) => Promise.all(names.map(async (n) => Array.from(await p[n].data())));

  it('moves S\'s heads only, leaves the given S as it was, and gives the same heads for the same seed', async () => {
    const heads = segdetParamNames(['seg', 'det']);
    const body = segdetParamNames(['backbone', 'decoder']);
    const before = await values(s, [...heads, ...body]);
    const o = { steps: 2, seed: 5, batch: 1, crop: 64, lr: 1e-3 };
    const tensorsBefore = tf.memory().numTensors;
    const a = await adaptTaskHeads(f, s, pairs(), o);
    // Nothing left behind but the returned parameters.
    expect(tf.memory().numTensors - tensorsBefore).toBe(Object.keys(a).length);
    const b = await adaptTaskHeads(f, s, pairs(), o);
    try {
      expect(await values(s, [...heads, ...body])).toEqual(before);
      expect(await values(a, body)).toEqual(before.slice(heads.length));
      const moved = (await values(a, heads)).some((v, i) => v.some((x, j) => x !== before[i][j]));
      expect(moved).toBe(true);
      expect(await values(a, heads)).toEqual(await values(b, heads));
    } finally {
      disposeParams(a);
      disposeParams(b);
    }
  });

  it('refuses when no pair has a label', async () => {
    await expect(adaptTaskHeads(f, s, pairs().slice(1), { steps: 1, seed: 1, batch: 1, crop: 64, lr: 1e-3 })).rejects.toThrow(/labelled training pairs/);
  });
});
