/** For tests of plumbing: seeded, untrained weights saved where the committed ones would be. */
import path from 'node:path';
import { MODELS, MODEL_NAMES, type ModelName } from '../core/models/registry';
import { disposeParams } from '../core/models/model-def';
import { saveModelFolder } from './weights-fs';

/** Saves `<dir>/<model>/` for each model, initialised from `seed` (float16 where `float16` says). */
export async function saveStandInModels(dir: string, seed: number, names: readonly ModelName[] = MODEL_NAMES, float16: readonly ModelName[] = []): Promise<void> {
  for (const name of names) {
    const params = MODELS[name].init(seed);
    await saveModelFolder(path.join(dir, MODELS[name].name), params, { float16: float16.includes(name) });
    disposeParams(params);
  }
}
