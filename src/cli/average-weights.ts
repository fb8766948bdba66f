/**
 * `npm run average-weights -- --model segdet --from DIR --from DIR [...] --out DIR [--float16]`
 *
 * Writes the element-wise mean of several model folders (a "model soup", core/weights/average),
 * e.g. two fine-tunes of S from the same weights with different seeds. The card is the first
 * folder's, with `averagedFrom` naming every input folder and the card `training` each had.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { readCommandLine } from './args';
import { useBackend } from './node-backend';
import { loadModelFolderInto, saveModelFolder } from './weights-fs';
import { MODELS, MODEL_NAMES, type ModelName } from '../core/models/registry';
import { disposeParams } from '../core/models/model-def';
import { averageParams } from '../core/weights/average';
import type { Params } from '../core/types';

const USAGE = `usage: npm run average-weights -- --model ${MODEL_NAMES.join('|')} --from DIR --from DIR [...] --out DIR [--float16]`;

interface AverageOptions { model: ModelName; from: string[]; out: string; float16: boolean }

function parse(argv: string[]): AverageOptions | null {
  return readCommandLine(argv, {
    model: { type: 'string' },
    from: { type: 'string', multiple: true },
    out: { type: 'string' },
    float16: { type: 'boolean', default: false },
  }, USAGE, (v) => {
    if (!v.model || !(MODEL_NAMES as string[]).includes(v.model)) throw new Error(`--model must be one of ${MODEL_NAMES.join(', ')}\n${USAGE}`);
    if (!v.from || v.from.length < 2) throw new Error(`give at least two --from folders\n${USAGE}`);
    if (!v.out) throw new Error(`--out is required\n${USAGE}`);
    if (v.from.some((d) => path.resolve(d) === path.resolve(v.out!))) throw new Error('--out must not be one of the --from folders');
    return { model: v.model as ModelName, from: v.from, out: v.out, float16: v.float16 ?? false };
  });
}

/** Entry point: returns the process exit code (0 ok, 1 unreadable inputs, 2 usage). */
export async function main(argv: string[]): Promise<number> {
  const o = parse(argv);
  if (!o) return argv.includes('--help') || argv.includes('-h') ? 0 : 2;
  await useBackend('cpu');
  const sets: Params[] = [];
  try {
    const cards: (Record<string, unknown> | null)[] = [];
    for (const dir of o.from) {
      const params = MODELS[o.model].init(0);
      sets.push(params);
      cards.push(await loadModelFolderInto(dir, params));
    }
    const mean = averageParams(sets);
    const card = {
      ...(cards[0] ?? { name: MODELS[o.model].name }),
      averagedFrom: o.from.map((dir, i) => ({ dir, training: cards[i]?.training ?? null })),
      date: new Date().toISOString(),
    };
    const bytes = await saveModelFolder(o.out, mean, { float16: o.float16, card });
    tf.dispose(Object.values(mean));
    console.log(`averaged ${o.from.length} ${o.model} folders into ${path.resolve(o.out)} (${bytes} bytes)`);
    return 0;
  } catch (e) {
    console.error(`average-weights: ${(e as Error).message}`);
    return 1;
  } finally {
    sets.forEach(disposeParams);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
