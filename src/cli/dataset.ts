/** Loads an MSRS-style split folder (ir/, vi/, label/, detection.json) into memory for training. */
import { readFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { checkLabel, type ReadPair } from '../core/train/pairs';
import type { GroundTruthBox } from '../core/types';
import { readImage } from './image-io';
import { Rng } from '../core/nn/random';

/** detection.json as in shared/data/msrs/{train,test}. */
export interface DetectionFile {
  classes: string[];
  images: { file: string; width: number; height: number; boxes: GroundTruthBox[] }[];
}

/** Reads `detection.json` of a split folder, keyed by file stem; empty when absent. */
export async function readDetections(file: string): Promise<Map<string, GroundTruthBox[]>> {
  const out = new Map<string, GroundTruthBox[]>();
  if (!existsSync(file)) return out;
  const json = JSON.parse(await readFile(file, 'utf8')) as DetectionFile;
  for (const im of json.images) out.set(path.parse(im.file).name.toLowerCase(), im.boxes);
  return out;
}

/** The image file names of a split folder's `ir/`, sorted: one per pair. */
export async function pairFileNames(dir: string): Promise<string[]> {
  return (await readdir(path.join(dir, 'ir'))).filter((f) => /\.(png|jpe?g|bmp)$/i.test(f)).sort();
}

/**
 * Reads every pair of `dir` (`ir/`, `vi/`, optional `label/` and `detection.json`), optionally
 * only the first `limit` (sorted by name), for the core's `prepareTrainPairs`. Reports progress
 * through `onProgress`. @throws on a pair whose images differ in size or whose label does not fit.
 */
export async function loadSplit(
  dir: string, opts: { limit?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<ReadPair[]> {
  const names = await pairFileNames(dir);
  const chosen = opts.limit ? names.slice(0, opts.limit) : names;
  const boxes = await readDetections(path.join(dir, 'detection.json'));
  const hasBoxes = boxes.size > 0;
  const pairs: ReadPair[] = [];
  for (const [i, name] of chosen.entries()) {
    const stem = path.parse(name).name;
    const ir = await readImage(path.join(dir, 'ir', name));
    const vi = await readImage(path.join(dir, 'vi', name));
    if (ir.width !== vi.width || ir.height !== vi.height) {
      throw new Error(`${name}: IR is ${ir.width}x${ir.height} but VI is ${vi.width}x${vi.height}`);
    }
    const labelFile = path.join(dir, 'label', name);
    const pair: ReadPair = { key: stem, stem, ir, vi };
    if (existsSync(labelFile)) {
      const checked = checkLabel(await readImage(labelFile), ir);
      if (!('indices' in checked)) throw new Error(`${labelFile}: ${checked.message}`);
      pair.label = checked.indices;
    }
    if (hasBoxes) pair.boxes = boxes.get(stem.toLowerCase()) ?? [];
    pairs.push(pair);
    opts.onProgress?.(i + 1, chosen.length);
  }
  return pairs;
}

/** Share of `msrs/train` held out when a choice is made on the training split (K, strategy variants). */
export const VALIDATION_SHARE = 0.2;

/**
 * Splits MSRS stems into training and validation stems by whole blocks of `blockSize`
 * consecutive frames (day and night apart), as `shared/data` cut train from test: neighbouring
 * frames are near-duplicates, so holding out single frames would leak. Seeded; about
 * `fraction` of the stems are held out.
 */
export function holdOutBlocks(stems: readonly string[], fraction: number, seed: number, blockSize = 5): { train: string[]; validation: string[] } {
  const blocks = new Map<string, string[]>();
  for (const suffix of new Set(stems.map((s) => s.slice(-1)))) {
    const own = stems.filter((s) => s.slice(-1) === suffix).sort();
    own.forEach((s, i) => {
      const key = `${suffix}${Math.floor(i / blockSize)}`;
      blocks.set(key, [...(blocks.get(key) ?? []), s]);
    });
  }
  const order = new Rng(seed).shuffle([...blocks.keys()].sort());
  const validation: string[] = [];
  for (const key of order) {
    if (validation.length >= fraction * stems.length) break;
    validation.push(...blocks.get(key)!);
  }
  const held = new Set(validation);
  return { train: stems.filter((s) => !held.has(s)), validation: validation.sort() };
}
