/**
 * A run as one file (`.fprun`), to share it or attach it to a paper: its settings, loss history,
 * notes and scores, and the weights of every model it moved, in the TensorFlow.js weights
 * format. Layout: the magic `FPRUN1\n`, a 32-bit little-endian header length, the header
 * (UTF-8 JSON: the run record and, per model, its `model.json` and where its bytes are), then
 * the weight bytes one model after another.
 */
import { RUN_MODELS, type ModelWeights, type RunModel, type RunWeights } from '../protocol/messages';
import type { RunRecord } from './store/lab';

export const RUN_FILE_EXTENSION = '.fprun';
const MAGIC = 'FPRUN1\n';
const FORMAT = 'fusion-playground-run';


interface Header {
  format: typeof FORMAT;
  version: 1;
  run: RunRecord;
  models: Partial<Record<RunModel, { modelJson: Record<string, unknown>; offset: number; length: number }>>;
}

/** Why a file is not a run file (or a damaged one). */
export class RunFileError extends Error {
  override name = 'RunFileError';
}

/** The run and its weights as one file's bytes. */
export function encodeRunFile(run: RunRecord, weights: RunWeights): Uint8Array<ArrayBuffer> {
  const models: Header['models'] = {};
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const name of RUN_MODELS) {
    const w = weights[name];
    if (!w) continue;
    const bytes = new Uint8Array(w.weightData);
    models[name] = { modelJson: w.modelJson, offset, length: bytes.byteLength };
    parts.push(bytes);
    offset += bytes.byteLength;
  }
  const header = new TextEncoder().encode(JSON.stringify({ format: FORMAT, version: 1, run, models } satisfies Header));
  const magic = new TextEncoder().encode(MAGIC);
  const out = new Uint8Array(magic.byteLength + 4 + header.byteLength + offset);
  out.set(magic, 0);
  new DataView(out.buffer).setUint32(magic.byteLength, header.byteLength, true);
  out.set(header, magic.byteLength + 4);
  let at = magic.byteLength + 4 + header.byteLength;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Whether bytes start like a run file. */
export function isRunFile(bytes: Uint8Array): boolean {
  return new TextDecoder().decode(bytes.subarray(0, MAGIC.length)) === MAGIC;
}

/** Reads a run file. @throws RunFileError saying what is wrong. */
export function decodeRunFile(bytes: Uint8Array): { run: RunRecord; weights: RunWeights } {
  if (!isRunFile(bytes)) throw new RunFileError('not a Fusion Playground run file (it does not start with FPRUN1)');
  const start = MAGIC.length + 4;
  if (bytes.byteLength < start) throw new RunFileError('the file is cut short');
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(MAGIC.length, true);
  if (start + headerLength > bytes.byteLength) throw new RunFileError('the file is cut short (header)');
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(start, start + headerLength))) as Header;
  } catch {
    throw new RunFileError('its header is not JSON');
  }
  if (header.format !== FORMAT || header.version !== 1 || !header.run || typeof header.models !== 'object') {
    throw new RunFileError(`unknown run file format ${String(header.format)} v${String(header.version)}`);
  }
  const body = bytes.subarray(start + headerLength);
  const weights: RunWeights = {};
  for (const [name, m] of Object.entries(header.models)) {
    if (!RUN_MODELS.includes(name as RunModel)) throw new RunFileError(`unknown model ${name}`);
    if (!(m.offset >= 0 && m.length >= 0 && m.offset + m.length <= body.byteLength)) throw new RunFileError(`the weights of ${name} are cut short`);
    const w: ModelWeights = { modelJson: m.modelJson, weightData: body.slice(m.offset, m.offset + m.length).buffer };
    weights[name as RunModel] = w;
  }
  if (!weights.fusion) throw new RunFileError('it holds no fusion (F) weights');
  return { run: header.run, weights };
}
