/**
 * Non-serialisable fine-tuning data keyed by id: run weights (ArrayBuffers, also in
 * IndexedDB), run results on pairs (bitmaps, class maps), the training preview bitmap and
 * TDFusion weight maps. The lab store holds only ids and version numbers.
 */
import type { Detection, RunWeights } from '../protocol/messages';

/** A run's (or the pretrained F's) fused result on one pair. */
export interface RunImages {
  width: number;
  height: number;
  fused: ImageBitmap;
  seg: Uint8Array | null;
  detections: Detection[];
}

const weights = new Map<string, RunWeights>();
const results = new Map<string, RunImages>();
const weightMaps = new Map<string, { width: number; height: number; wIr: Float32Array }>();
let preview: ImageBitmap | null = null;

/** Result bitmaps kept; older ones are closed (re-fused when shown again). */
const MAX_RESULTS = 48;

export function setRunWeights(id: string, w: RunWeights): void {
  weights.set(id, w);
}
export function getRunWeights(id: string): RunWeights | undefined {
  return weights.get(id);
}

export function setRunImages(key: string, im: RunImages): string[] {
  const old = results.get(key);
  if (old && old.fused !== im.fused) old.fused.close();
  results.delete(key);
  results.set(key, im);
  const evicted: string[] = [];
  for (const k of results.keys()) {
    if (results.size <= MAX_RESULTS) break;
    results.get(k)!.fused.close();
    results.delete(k);
    evicted.push(k);
  }
  return evicted;
}
export function getRunImages(key: string): RunImages | undefined {
  return results.get(key);
}

export function setWeightMap(key: string, m: { width: number; height: number; wIr: Float32Array }): void {
  weightMaps.set(key, m);
}
export function getWeightMap(key: string): { width: number; height: number; wIr: Float32Array } | undefined {
  return weightMaps.get(key);
}

/** Forgets everything of a run. */
export function dropRun(id: string): void {
  weights.delete(id);
  for (const k of [...results.keys()]) {
    if (k.startsWith(`${id}|`)) {
      results.get(k)!.fused.close();
      results.delete(k);
    }
  }
  for (const k of [...weightMaps.keys()]) if (k.startsWith(`${id}|`)) weightMaps.delete(k);
}

export function setPreview(b: ImageBitmap): void {
  preview?.close();
  preview = b;
}
export function getPreview(): ImageBitmap | null {
  return preview;
}
