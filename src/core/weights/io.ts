/**
 * Weights I/O in the TensorFlow.js weights format: a `model.json` with a `weightsManifest`
 * (groups of shard `paths` and `weights` entries `{name, shape, dtype, quantization?}`) plus
 * binary shards holding the values back to back, little-endian, in manifest order.
 * float16 storage follows tfjs' convention (`dtype: 'float32'`, `quantization: {dtype: 'float16'}`),
 * so `tf.io.decodeWeights` and tfjs' own loaders read these files too.
 *
 * Decoding validates everything before it creates a single tensor, so a bad file never
 * leaves half-loaded state behind; {@link loadParamsInto} assigns all parameters or none.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ParamSpec, Params } from '../types';

/** Default shard file name written by {@link encodeWeights}. */
export const WEIGHTS_FILE = 'weights.bin';
/** Value of model.json's `format` field for files written here. */
export const WEIGHTS_FORMAT = 'fusion-playground/params';

/** Largest finite float16 value. */
const FLOAT16_MAX = 65504;

/** A weights file (or a set of tensors) that cannot be used; `problems` lists each finding. */
export class WeightsError extends Error {
  readonly problems: string[];
  constructor(problems: string[] | string) {
    const list = Array.isArray(problems) ? problems : [problems];
    super(list.length === 1 ? list[0] : `${list.length} problems: ${list.join('; ')}`);
    this.name = 'WeightsError';
    this.problems = list;
  }
}

/** One entry of a weights manifest (the tfjs `WeightsManifestEntry` subset used here). */
export interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: 'float32';
  quantization?: { dtype: 'float16' } | { dtype: 'uint8' | 'uint16'; scale: number; min: number };
}

/** One group of the manifest: shard file names and the weights stored in them, in order. */
export interface ManifestGroup {
  paths: string[];
  weights: ManifestEntry[];
}

/** The model.json object written by {@link encodeWeights}. */
export interface WeightsModelJson {
  format: string;
  generatedBy: string;
  convertedBy: null;
  weightsManifest: ManifestGroup[];
  /** Caller-supplied metadata (`extra`), e.g. the model name and architecture. */
  userDefinedMetadata?: Record<string, unknown>;
}

/** Options of {@link encodeWeights}. */
export interface EncodeOptions {
  /** Store values as IEEE float16 (half the size; ~3 significant digits). Default false. */
  float16?: boolean;
  /** Plain JSON metadata stored as model.json's `userDefinedMetadata`. */
  extra?: Record<string, unknown>;
  /** Shard file name. Default `weights.bin`. */
  shardName?: string;
}

/** Shapes of named parameters (in their key order), for validation against a file. */
export function paramSpecs(params: Record<string, tf.Tensor>): ParamSpec[] {
  return Object.keys(params).map((name) => ({ name, shape: [...params[name].shape] }));
}

const fmtShape = (s: readonly number[]): string => `[${s.join(',')}]`;
const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

// ---------------------------------------------------------------------------------------------
// float16 <-> float32

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary16 bits of `v`, rounded to nearest even (overflow gives ±Inf). */
export function float32ToFloat16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to Inf).
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
  return sign | half;
}

/** The float value of IEEE 754 binary16 bits. */
export function float16BitsToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * Serialises named tensors (float32) to a model.json object and one binary shard.
 * Tensors are read with `await t.data()`; they are not disposed.
 * @throws WeightsError when a value is NaN/Inf, a tensor is not float32, or (float16) a value
 *   exceeds ±65504.
 */
export async function encodeWeights(
  params: Record<string, tf.Tensor>,
  opts: EncodeOptions = {},
): Promise<{ modelJson: WeightsModelJson; weightData: ArrayBuffer }> {
  const names = Object.keys(params);
  const entries: ManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  const problems: string[] = [];
  for (const name of names) {
    const t = params[name];
    if (t.dtype !== 'float32') {
      problems.push(`${name}: dtype ${t.dtype}, only float32 parameters can be saved`);
      continue;
    }
    const values = (await t.data()) as Float32Array;
    const bad = firstNonFinite(values);
    if (bad) problems.push(`${name}: ${bad}`);
    if (opts.float16) {
      const half = new Uint16Array(values.length);
      let over = 0;
      for (let i = 0; i < values.length; i++) {
        if (Math.abs(values[i]) > FLOAT16_MAX) over++;
        half[i] = float32ToFloat16Bits(values[i]);
      }
      if (over) problems.push(`${name}: ${over} value${over > 1 ? 's exceed' : ' exceeds'} the float16 range (±${FLOAT16_MAX}); save as float32`);
      chunks.push(new Uint8Array(half.buffer));
      entries.push({ name, shape: [...t.shape], dtype: 'float32', quantization: { dtype: 'float16' } });
    } else {
      chunks.push(new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)));
      entries.push({ name, shape: [...t.shape], dtype: 'float32' });
    }
  }
  if (problems.length) throw new WeightsError(problems);
  const bytes = concatBytes(chunks);
  const modelJson: WeightsModelJson = {
    format: WEIGHTS_FORMAT,
    generatedBy: `TensorFlow.js tfjs-core v${tf.version_core}`,
    convertedBy: null,
    weightsManifest: [{ paths: [opts.shardName ?? WEIGHTS_FILE], weights: entries }],
    ...(opts.extra ? { userDefinedMetadata: opts.extra } : {}),
  };
  return { modelJson, weightData: bytes.buffer };
}

// ---------------------------------------------------------------------------------------------
// Decoding

function firstNonFinite(values: Float32Array): string | null {
  let count = 0;
  let first = -1;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      if (first < 0) first = i;
      count++;
    }
  }
  if (!count) return null;
  return `${count} non-finite value${count > 1 ? 's' : ''} (first ${values[first]} at index ${first})`;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const BYTES_PER_VALUE = { float32: 4, float16: 2, uint16: 2, uint8: 1 } as const;

/** Names of the weights a model.json lists. @throws WeightsError on a broken manifest. */
export function manifestWeightNames(modelJson: unknown): string[] {
  return parseManifest(modelJson).flatMap((g) => g.weights.map((w) => w.name));
}

/** Checks the manifest's JSON structure; returns the groups or throws a WeightsError. */
function parseManifest(modelJson: unknown): ManifestGroup[] {
  if (!isObj(modelJson)) throw new WeightsError('model.json: not a JSON object');
  const wm = modelJson.weightsManifest;
  if (!Array.isArray(wm)) throw new WeightsError('model.json: no "weightsManifest" array');
  if (wm.length === 0) throw new WeightsError('model.json: "weightsManifest" is empty');
  const problems: string[] = [];
  wm.forEach((g, gi) => {
    const where = `model.json weightsManifest[${gi}]`;
    if (!isObj(g)) return problems.push(`${where}: not an object`);
    if (!Array.isArray(g.paths) || g.paths.length === 0 || !g.paths.every((p) => typeof p === 'string' && p !== '')) {
      problems.push(`${where}: "paths" must be a non-empty array of file names`);
    }
    if (!Array.isArray(g.weights)) return problems.push(`${where}: no "weights" array`);
    g.weights.forEach((w, wi) => {
      const at = `${where}.weights[${wi}]`;
      if (!isObj(w)) return problems.push(`${at}: not an object`);
      if (typeof w.name !== 'string' || w.name === '') problems.push(`${at}: "name" must be a non-empty string`);
      const label = typeof w.name === 'string' && w.name ? w.name : at;
      if (!Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
        problems.push(`${label}: "shape" must be an array of non-negative integers, got ${JSON.stringify(w.shape)}`);
      }
      if (w.dtype !== 'float32') {
        problems.push(`${label}: dtype ${JSON.stringify(w.dtype)} not supported (parameters are float32)`);
      }
      if (w.quantization !== undefined) {
        const q = w.quantization;
        if (!isObj(q)) problems.push(`${label}: "quantization" must be an object`);
        else if (q.dtype === 'uint8' || q.dtype === 'uint16') {
          if (typeof q.scale !== 'number' || typeof q.min !== 'number' || !Number.isFinite(q.scale) || !Number.isFinite(q.min)) {
            problems.push(`${label}: ${q.dtype} quantization needs finite numeric "scale" and "min"`);
          }
        } else if (q.dtype !== 'float16') {
          problems.push(`${label}: quantization dtype ${JSON.stringify(q.dtype)} not supported (float16, uint8, uint16)`);
        }
      }
    });
  });
  if (problems.length) throw new WeightsError(problems);
  return wm as ManifestGroup[];
}

function entryBytes(w: ManifestEntry): number {
  const per = w.quantization ? BYTES_PER_VALUE[w.quantization.dtype] : BYTES_PER_VALUE.float32;
  return sizeOf(w.shape) * per;
}

function decodeEntry(w: ManifestEntry, bytes: Uint8Array): Float32Array {
  // Copy into a fresh, aligned buffer: shard offsets need not be 4-byte aligned.
  const own = bytes.slice();
  const n = sizeOf(w.shape);
  const q = w.quantization;
  if (!q) return new Float32Array(own.buffer, 0, n);
  const out = new Float32Array(n);
  if (q.dtype === 'float16') {
    const h = new Uint16Array(own.buffer, 0, n);
    for (let i = 0; i < n; i++) out[i] = float16BitsToFloat32(h[i]);
  } else {
    const src = q.dtype === 'uint8' ? own : new Uint16Array(own.buffer, 0, n);
    for (let i = 0; i < n; i++) out[i] = src[i] * q.scale + q.min;
  }
  return out;
}

/**
 * Validates a model.json + shards against the expected parameters and decodes them.
 *
 * @param modelJson parsed model.json (any JSON value; its structure is checked).
 * @param shards the shard files' bytes, in the order of the manifest's paths (all groups).
 * @param expected names and shapes the model needs (see {@link paramSpecs}).
 * @returns new float32 tensors keyed by name (the caller owns and disposes them).
 * @throws WeightsError listing what is wrong: JSON structure, missing or unknown names,
 *   duplicate names, shapes, dtypes, shard count, shard byte lengths against the manifest,
 *   NaN/Inf values. No tensor is created unless every check passes.
 */
export function decodeWeights(modelJson: unknown, shards: ArrayBuffer[], expected: ParamSpec[]): Record<string, tf.Tensor> {
  const groups = parseManifest(modelJson);
  const problems: string[] = [];

  // Names and shapes.
  const want = new Map(expected.map((s) => [s.name, s.shape]));
  const seen = new Set<string>();
  const unknown: string[] = [];
  for (const g of groups) {
    for (const w of g.weights) {
      if (seen.has(w.name)) problems.push(`${w.name}: listed more than once in the manifest`);
      seen.add(w.name);
      const shape = want.get(w.name);
      if (!shape) unknown.push(w.name);
      else if (shape.length !== w.shape.length || shape.some((d, i) => d !== w.shape[i])) {
        problems.push(`${w.name}: shape ${fmtShape(w.shape)} expected ${fmtShape(shape)}`);
      }
    }
  }
  const missing = expected.map((s) => s.name).filter((n) => !seen.has(n));
  if (missing.length) problems.push(`missing weight${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
  if (unknown.length) problems.push(`unknown weight${unknown.length > 1 ? 's' : ''} (not in the model): ${unknown.join(', ')}`);

  // Shards: count, then byte length per group.
  const allPaths = groups.flatMap((g) => g.paths);
  if (shards.length !== allPaths.length) {
    problems.push(`manifest lists ${allPaths.length} shard file${allPaths.length > 1 ? 's' : ''} (${allPaths.join(', ')}), got ${shards.length}`);
    throw new WeightsError(problems);
  }
  const groupBytes: Uint8Array[] = [];
  let si = 0;
  for (const g of groups) {
    const parts = shards.slice(si, si + g.paths.length);
    si += g.paths.length;
    const have = parts.reduce((a, b) => a + b.byteLength, 0);
    const need = g.weights.reduce((a, w) => a + entryBytes(w), 0);
    if (have !== need) {
      const what = g.paths.length === 1 ? `${g.paths[0]} is` : `shards ${g.paths.join(', ')} are`;
      problems.push(`${what} ${have} bytes, manifest needs ${need}${have < need ? ' (truncated?)' : ' (extra bytes)'}`);
      groupBytes.push(new Uint8Array(0));
      continue;
    }
    const joined = new Uint8Array(have);
    let off = 0;
    for (const p of parts) {
      joined.set(new Uint8Array(p), off);
      off += p.byteLength;
    }
    groupBytes.push(joined);
  }
  if (problems.length) throw new WeightsError(problems);

  // Values: decode to plain arrays and check them before any tensor exists.
  const values = new Map<string, { shape: number[]; data: Float32Array }>();
  groups.forEach((g, gi) => {
    let off = 0;
    for (const w of g.weights) {
      const n = entryBytes(w);
      const data = decodeEntry(w, groupBytes[gi].subarray(off, off + n));
      off += n;
      const bad = firstNonFinite(data);
      if (bad) problems.push(`${w.name}: ${bad}`);
      values.set(w.name, { shape: w.shape, data });
    }
  });
  if (problems.length) throw new WeightsError(problems);

  const out: Record<string, tf.Tensor> = {};
  for (const s of expected) {
    const v = values.get(s.name)!;
    out[s.name] = tf.tensor(v.data, v.shape, 'float32');
  }
  return out;
}

/**
 * Assigns tensors to a model's variables, all or nothing: names, shapes and dtypes are checked
 * for every parameter first; on any mismatch a WeightsError is thrown and no variable changes.
 * The tensors are not disposed (the caller owns them).
 */
export function loadParamsInto(params: Params, tensors: Record<string, tf.Tensor>): void {
  const problems: string[] = [];
  const missing = Object.keys(params).filter((n) => !(n in tensors));
  const unknown = Object.keys(tensors).filter((n) => !(n in params));
  if (missing.length) problems.push(`missing weight${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
  if (unknown.length) problems.push(`unknown weight${unknown.length > 1 ? 's' : ''} (not in the model): ${unknown.join(', ')}`);
  for (const name of Object.keys(params)) {
    const t = tensors[name];
    if (!t) continue;
    const v = params[name];
    if (t.isDisposed) problems.push(`${name}: tensor is disposed`);
    else if (t.dtype !== v.dtype) problems.push(`${name}: dtype ${t.dtype} expected ${v.dtype}`);
    else if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) {
      problems.push(`${name}: shape ${fmtShape(t.shape)} expected ${fmtShape(v.shape)}`);
    }
  }
  if (problems.length) throw new WeightsError(problems);
  for (const name of Object.keys(params)) params[name].assign(tensors[name]);
}

/**
 * Validates and loads a model.json + shards into `params` (all or nothing), disposing the
 * decoded tensors afterwards. @throws WeightsError as {@link decodeWeights}.
 */
export function loadWeightsInto(params: Params, modelJson: unknown, shards: ArrayBuffer[]): void {
  const tensors = decodeWeights(modelJson, shards, paramSpecs(params));
  try {
    loadParamsInto(params, tensors);
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
}

/** The chunks one after another in one array. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.byteLength, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}
