/**
 * A run as one file (`.fprun`), to share it or attach it to a paper: its settings, loss history,
 * notes and scores, and the weights of every model it moved, in the TensorFlow.js weights
 * format. Layout: the magic `FPRUN1\n`, a 32-bit little-endian header length, the header
 * (UTF-8 JSON: the run record and, per model, its `model.json` and where its bytes are), then
 * the weight bytes one model after another.
 */
import * as v from 'valibot';
import { describeIssues, parseRunRecord, RUN_MODELS, RunFileError, type RunModel } from '../core/runs/record';
import type { ModelWeights, RunWeights } from '../protocol/messages';
import type { RunRecord } from './store/lab';

export { RunFileError };

export const RUN_FILE_EXTENSION = '.fprun';
const MAGIC = 'FPRUN1\n';
const FORMAT = 'fusion-playground-run';
/**
 * The largest run file read (S's weights are 8 MB, F's 0.1 MB), and the largest header: a
 * bounded record is well under a megabyte, and parsing JSON blocks the page for about 10 ms a MB.
 */
export const RUN_FILE_MAX_BYTES = 64 * 2 ** 20;
export const RUN_HEADER_MAX_BYTES = 8 * 2 ** 20;

interface Header {
  format: typeof FORMAT;
  version: 1;
  run: RunRecord;
  models: Partial<Record<RunModel, { modelJson: Record<string, unknown>; offset: number; length: number }>>;
}

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 2 : 0)} MB`;
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

const modelEntry = v.object({
  modelJson: v.record(v.string(), v.unknown(), 'expected the model.json object'),
  offset: v.pipe(v.number('expected a number'), v.safeInteger('expected a whole number'), v.minValue(0, 'expected a number ≥ 0')),
  length: v.pipe(v.number('expected a number'), v.safeInteger('expected a whole number'), v.minValue(0, 'expected a number ≥ 0')),
}, 'expected { modelJson, offset, length }');

const headerSchema = v.object({
  format: v.literal(FORMAT, 'this is not a Fusion Playground run file'),
  version: v.literal(1, 'this run file version is not supported (expected 1)'),
  run: v.unknown(),
  models: v.strictObject(
    Object.fromEntries(RUN_MODELS.map((m) => [m, v.optional(modelEntry)])) as Record<RunModel, v.OptionalSchema<typeof modelEntry, undefined>>,
    'expected the weights of fusion, discriminator, segdet or lossGenerator only',
  ),
});

/** Refuses a file too large to be a run file, before it is read. @throws RunFileError */
export function checkRunFileSize(bytes: number): void {
  if (bytes > RUN_FILE_MAX_BYTES) throw new RunFileError(`the file is ${mb(bytes)}, over the ${mb(RUN_FILE_MAX_BYTES)} a run file may be`);
}

/** Whether bytes start like a run file. */
export function isRunFile(bytes: Uint8Array): boolean {
  return new TextDecoder().decode(bytes.subarray(0, MAGIC.length)) === MAGIC;
}

/** Reads a run file. @throws RunFileError saying what is wrong. */
export function decodeRunFile(bytes: Uint8Array): { run: RunRecord; weights: RunWeights } {
  checkRunFileSize(bytes.byteLength);
  if (!isRunFile(bytes)) throw new RunFileError('not a Fusion Playground run file (it does not start with FPRUN1)');
  const start = MAGIC.length + 4;
  if (bytes.byteLength < start) throw new RunFileError('the file is cut short');
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(MAGIC.length, true);
  if (start + headerLength > bytes.byteLength) throw new RunFileError('the file is cut short (header)');
  if (headerLength > RUN_HEADER_MAX_BYTES) throw new RunFileError(`its header is ${mb(headerLength)}, over the ${mb(RUN_HEADER_MAX_BYTES)} a run's settings, history and scores may take`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes.subarray(start, start + headerLength)));
  } catch {
    throw new RunFileError('its header is not JSON');
  }
  const parsed = v.safeParse(headerSchema, json);
  if (!parsed.success) throw new RunFileError(describeIssues(parsed.issues));
  const header = parsed.output;
  const run = parseRunRecord(header.run);
  const body = bytes.subarray(start + headerLength);
  const weights: RunWeights = {};
  for (const name of RUN_MODELS) {
    const m = header.models[name];
    if (!m) continue;
    if (m.offset + m.length > body.byteLength) throw new RunFileError(`the weights of ${name} are cut short`);
    const w: ModelWeights = { modelJson: m.modelJson, weightData: body.slice(m.offset, m.offset + m.length).buffer };
    weights[name] = w;
  }
  if (!weights.fusion) throw new RunFileError('it holds no fusion (F) weights');
  return { run, weights };
}
