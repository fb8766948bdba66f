/**
 * What the store cannot hold (not serialisable), under the store's keys: each pair's input
 * sources and thumbnails (by pair id), each result's bitmaps and class maps (by result key,
 * one cache for the pretrained model and every run, one eviction policy), run weights (also
 * in IndexedDB), TDFusion weight maps and the training preview.
 */
import type { Detection, ImageSource, RunWeights } from '../protocol/messages';

/** Where a pair's images come from. */
export interface PairInputs {
  ir: ImageSource;
  vi: ImageSource;
  label?: ImageSource;
  /** Small thumbnails as data URLs, once made (`../thumbnails.ts`). */
  thumbs?: Promise<{ ir: string; vi: string }>;
}

/** A result's images, ready to draw. IR and VI as processed are kept for the pretrained run only. */
export interface ResultImages {
  pairId: string;
  width: number;
  height: number;
  fused: ImageBitmap;
  ir?: ImageBitmap;
  vi?: ImageBitmap;
  seg: Uint8Array | null;
  label: Uint8Array | null;
  detections: Detection[];
}

export interface WeightMap {
  width: number;
  height: number;
  wIr: Float32Array;
}

const inputs = new Map<string, PairInputs>();
/** Most recently used last. */
const images = new Map<string, ResultImages>();
/** Run weights by run id (IndexedDB holds them too; `runs.ts` reads through). */
export const runWeights = new Map<string, RunWeights>();
/** TDFusion weight maps by result key (dropped with the result's images). */
export const weightMaps = new Map<string, WeightMap>();
/** Imported fused folders: each one's image files by lower-case stem (the record is the store's `methods`). */
export const importedFused = new Map<string, Map<string, File>>();
let preview: ImageBitmap | null = null;

/** Results kept as bitmaps; older ones are dropped and fused again when shown. */
export const MAX_CACHED_RESULTS = 32;

export function setInputs(pairId: string, v: PairInputs): void {
  inputs.set(pairId, v);
}

export function getInputs(pairId: string): PairInputs | undefined {
  return inputs.get(pairId);
}

function close(im: ResultImages): void {
  for (const b of [im.fused, im.ir, im.vi]) b?.close();
}

/**
 * Stores a result's images, closing those it replaces.
 * @param keepPair results of this pair (the one on screen) are never evicted.
 * @returns keys whose images were evicted to stay within {@link MAX_CACHED_RESULTS}.
 */
export function setResultImages(key: string, im: ResultImages, keepPair: string | null = null): string[] {
  const old = images.get(key);
  images.delete(key);
  images.set(key, im);
  if (old) close(old);
  const evicted: string[] = [];
  for (const [k, v] of images) {
    if (images.size <= MAX_CACHED_RESULTS) break;
    if (k === key || v.pairId === keepPair) continue;
    close(v);
    images.delete(k);
    weightMaps.delete(k);
    evicted.push(k);
  }
  return evicted;
}

/** A result's images (marks them recently used). */
export function getResultImages(key: string): ResultImages | undefined {
  const im = images.get(key);
  if (im) {
    images.delete(key);
    images.set(key, im);
  }
  return im;
}

/** Drops results' images (closing their bitmaps) and weight maps. */
export function dropResultImages(keys: Iterable<string>): void {
  for (const k of keys) {
    const im = images.get(k);
    if (im) close(im);
    images.delete(k);
    weightMaps.delete(k);
  }
}

/** Forgets a pair's inputs; its results go with `dropResultImages`. */
export function dropInputs(pairId: string): void {
  inputs.delete(pairId);
}

export function setPreview(b: ImageBitmap): void {
  preview?.close();
  preview = b;
}
export function getPreview(): ImageBitmap | null {
  return preview;
}
