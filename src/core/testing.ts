/**
 * For the core's tests only: switch to a tfjs backend that the Vitest setup file
 * (`vitest.setup.ts`) has registered, so the core's tests need nothing from `src/cli/`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from './nn/random';
import type { CropBatch } from './train/batch';

/** Switches tfjs to `name` and waits until it is ready. @throws if it cannot start. */
export async function useBackend(name: 'wasm' | 'cpu' = 'wasm'): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend '${name}' failed to initialise (is it registered by vitest.setup.ts?)`);
  await tf.ready();
}

/**
 * A seeded 1×size×size training batch for strategy steps: random IR/visible planes, a label
 * map with a block of class 2 and scattered class 1, one person box. `nan` plants a NaN.
 */
export function tinyCropBatch(seed: number, size = 32, opts: { nan?: boolean } = {}): CropBatch {
  const rng = new Rng(seed);
  const n = size * size;
  const irvi = rng.uniformArray(2 * n);
  if (opts.nan) irvi[5] = NaN;
  const label = new Uint8Array(n);
  for (let i = 0; i < n; i++) label[i] = (i % size) < 12 ? 2 : rng.int(9) === 0 ? 1 : 0;
  return { batch: 1, height: size, width: size, irvi, label, boxes: [[[2, 3, 12, 30, 0]]] };
}
