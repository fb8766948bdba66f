/**
 * Node helpers to save and load one model folder: `<dir>/model.json`, its shard(s)
 * (`weights.bin`) and an optional `card.json` describing the model (architecture, parameter
 * count, data, steps, metrics). The format logic lives in `core/weights/io`.
 */
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../core/types';
import { MODELS, type ModelName } from '../core/models/registry';
import { disposeParams } from '../core/models/model-def';
import { WeightsError, decodeWeights, encodeWeights, loadWeightsInto, manifestWeightNames } from '../core/weights/io';
import { PEERS, peerFolder, peerParamSpecs, type PeerId, type PeerParams } from '../core/models/peers';

/** What {@link saveModelFolder} writes besides the weights. */
export interface SaveOptions {
  /** Store float16 values (half the size). Default false. */
  float16?: boolean;
  /** Written as `card.json` when given. */
  card?: Record<string, unknown>;
  /** Stored in model.json's `userDefinedMetadata`. */
  extra?: Record<string, unknown>;
}

/** Writes via a temporary name and a rename, so a crash never leaves a half-written file. */
async function writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

/**
 * Saves named tensors to `dir/model.json` + `dir/weights.bin` (+ `dir/card.json`),
 * creating the folder. Returns the weights' size in bytes.
 */
export async function saveModelFolder(dir: string, params: Record<string, tf.Tensor>, opts: SaveOptions = {}): Promise<number> {
  const { modelJson, weightData } = await encodeWeights(params, { float16: opts.float16, extra: opts.extra });
  await mkdir(dir, { recursive: true });
  await writeAtomic(path.join(dir, modelJson.weightsManifest[0].paths[0]), new Uint8Array(weightData));
  await writeAtomic(path.join(dir, 'model.json'), JSON.stringify(modelJson, null, 1) + '\n');
  if (opts.card) await writeAtomic(path.join(dir, 'card.json'), JSON.stringify(opts.card, null, 2) + '\n');
  return weightData.byteLength;
}

/** A model folder's files as read from disk (not yet validated against a model). */
interface ModelFolderFiles {
  modelJson: unknown;
  shards: ArrayBuffer[];
  /** Parsed card.json, or null when the folder has none. */
  card: Record<string, unknown> | null;
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new WeightsError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new WeightsError(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Reads `dir/model.json`, its shards and `dir/card.json` (optional).
 * @throws WeightsError naming the file that cannot be read.
 */
async function readModelFolder(dir: string): Promise<ModelFolderFiles> {
  const modelJson = await readJson(path.join(dir, 'model.json'));
  const manifest = (modelJson as { weightsManifest?: { paths?: unknown }[] } | null)?.weightsManifest;
  const shardNames: string[] = [];
  if (Array.isArray(manifest)) {
    for (const g of manifest) if (Array.isArray(g?.paths)) for (const p of g.paths) if (typeof p === 'string') shardNames.push(p);
  }
  const shards: ArrayBuffer[] = [];
  for (const name of shardNames) {
    // Shards must sit in the model folder: refuse paths that climb out of it.
    if (path.isAbsolute(name) || name.split(/[\\/]/).includes('..')) {
      throw new WeightsError(`${path.join(dir, 'model.json')}: shard path '${name}' leaves the model folder`);
    }
    let buf: Buffer;
    try {
      buf = await readFile(path.join(dir, name));
    } catch (e) {
      throw new WeightsError(`${path.join(dir, name)}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    shards.push(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
  }
  let card: Record<string, unknown> | null = null;
  try {
    card = JSON.parse(await readFile(path.join(dir, 'card.json'), 'utf8'));
  } catch {
    card = null; // The card is informational; a missing or broken one does not block loading.
  }
  return { modelJson, shards, card };
}

/**
 * Loads a model folder into existing variables, all or nothing.
 * @returns the folder's card (or null). @throws WeightsError; `params` is then unchanged.
 */
export async function loadModelFolderInto(dir: string, params: Params): Promise<Record<string, unknown> | null> {
  return (await loadFolder(dir, params, false)).card;
}

/**
 * As {@link loadModelFolderInto}, but parameters the folder does not have keep their values:
 * training that goes on from weights saved before the model grew a layer. Weights the model
 * lacks, or of another shape, are still refused.
 * @returns the folder's card and the names of the parameters it did not have.
 */
export async function loadModelFolderPartlyInto(dir: string, params: Params): Promise<{ card: Record<string, unknown> | null; kept: string[] }> {
  return loadFolder(dir, params, true);
}

async function loadFolder(dir: string, params: Params, partly: boolean): Promise<{ card: Record<string, unknown> | null; kept: string[] }> {
  const { modelJson, shards, card } = await readModelFolder(dir);
  try {
    const have = partly ? new Set(manifestWeightNames(modelJson)) : null;
    const into = have ? Object.fromEntries(Object.entries(params).filter(([n]) => have.has(n))) : params;
    loadWeightsInto(into, modelJson, shards);
    return { card, kept: Object.keys(params).filter((n) => !(n in into)) };
  } catch (e) {
    if (e instanceof WeightsError) throw new WeightsError(e.problems.map((p) => `${dir}: ${p}`));
    throw e;
  }
}

/**
 * Loads the model `name` from `<modelsDir>/<its folder>` into fresh parameters.
 * @throws WeightsError naming the folder; nothing is left allocated then.
 */
export async function loadModelFrom(modelsDir: string, name: ModelName): Promise<Params> {
  const params = MODELS[name].init(0);
  try {
    await loadModelFolderInto(path.join(modelsDir, MODELS[name].name), params);
  } catch (e) {
    disposeParams(params);
    throw e;
  }
  return params;
}

/**
 * Loads a published network's converted weights from `<modelsDir>/peer-<id>`.
 * @throws WeightsError naming the folder; nothing is allocated then.
 */
export async function loadPeerFrom(modelsDir: string, id: PeerId): Promise<PeerParams> {
  const dir = path.join(modelsDir, peerFolder(id));
  const { modelJson, shards } = await readModelFolder(dir);
  try {
    return decodeWeights(modelJson, shards, peerParamSpecs(PEERS[id].convs));
  } catch (e) {
    if (e instanceof WeightsError) throw new WeightsError(e.problems.map((p) => `${dir}: ${p}`));
    throw e;
  }
}
