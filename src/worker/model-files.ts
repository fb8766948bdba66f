/**
 * Downloads trained weights (`<base><name>/model.json` + its weight files + `card.json`) with
 * byte-level progress. The bytes are kept so the models can be rebuilt after a backend switch
 * or a lost GPU device without downloading again.
 */
import { concatBytes } from '../core/weights/io';

/** The parts of a tfjs `model.json` we read. */
export interface ModelJson {
  format?: string;
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype?: string }[] }[];
  [key: string]: unknown;
}

/** One downloaded model. */
export interface ModelFiles {
  name: string;
  modelJson: ModelJson;
  /** Weight shard bytes, in the order of the manifest's paths (all groups). */
  shards: ArrayBuffer[];
  card?: Record<string, unknown>;
}

/** A model that could not be downloaded, with the reason. */
export interface MissingModel {
  name: string;
  reason: string;
}

const BYTES_PER_DTYPE: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, float16: 2 };

function expectedBytes(m: ModelJson): number {
  let n = 0;
  for (const g of m.weightsManifest) {
    for (const w of g.weights) n += w.shape.reduce((a, b) => a * b, 1) * (BYTES_PER_DTYPE[w.dtype ?? 'float32'] ?? 4);
  }
  return n;
}

async function fetchJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { cache: 'no-cache' });
  if (!res.ok) throw new Error(`HTTP ${res.status} for ${url}`);
  // A static server's SPA fallback answers missing files with index.html.
  if (/text\/html/.test(res.headers.get('content-type') ?? '')) throw new Error(`${new URL(url).pathname} not found`);
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${new URL(url).pathname} is not JSON`);
  }
}

/** Reads a response body into `dst` at `offset`, calling `onBytes(n)` as chunks arrive. */
async function readInto(res: Response, onBytes: (n: number) => void): Promise<Uint8Array> {
  if (!res.body) {
    const buf = new Uint8Array(await res.arrayBuffer());
    onBytes(buf.byteLength);
    return buf;
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    onBytes(value.byteLength);
  }
  return concatBytes(chunks);
}

/**
 * Downloads the named models from `base` (absolute URL ending in `/`).
 * Missing or broken models are returned in `missing`, not thrown: the app runs with what it has.
 * @param onProgress bytes done / expected total, at most as often as chunks arrive.
 */
export async function downloadModels(
  base: string,
  names: string[],
  onProgress: (done: number, total: number, label: string) => void,
  isCancelled: () => boolean = () => false,
): Promise<{ models: ModelFiles[]; missing: MissingModel[] }> {
  const manifests: { name: string; json: ModelJson }[] = [];
  const missing: MissingModel[] = [];
  for (const name of names) {
    try {
      const json = await fetchJson<ModelJson>(`${base}${name}/model.json`);
      if (!Array.isArray(json.weightsManifest)) throw new Error('model.json has no weightsManifest');
      manifests.push({ name, json });
    } catch (e) {
      missing.push({ name, reason: `no trained weights (${(e as Error).message})` });
    }
  }
  const total = manifests.reduce((a, m) => a + expectedBytes(m.json), 0);
  let done = 0;
  onProgress(0, total, 'weights');
  const models: ModelFiles[] = [];
  for (const { name, json } of manifests) {
    try {
      const parts: Uint8Array[] = [];
      for (const group of json.weightsManifest) {
        for (const p of group.paths) {
          if (isCancelled()) throw new Error('cancelled');
          const res = await fetch(`${base}${name}/${p}`, { cache: 'no-cache' });
          if (!res.ok) throw new Error(`HTTP ${res.status} for ${name}/${p}`);
          parts.push(await readInto(res, (n) => {
            done += n;
            onProgress(Math.min(done, total), total, name);
          }));
        }
      }
      let card: Record<string, unknown> | undefined;
      try {
        card = await fetchJson<Record<string, unknown>>(`${base}${name}/card.json`);
      } catch { /* a card is optional */ }
      models.push({ name, modelJson: json, shards: parts.map((p) => p.buffer as ArrayBuffer), card });
    } catch (e) {
      missing.push({ name, reason: `weights unreadable (${(e as Error).message})` });
    }
  }
  onProgress(total, total, 'weights');
  return { models, missing };
}
