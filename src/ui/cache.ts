/**
 * Non-serialisable data keyed by pair id: the input sources (URLs or Blobs), thumbnail object
 * URLs, and the worker's results (ImageBitmaps, class maps). The store only holds ids and
 * a version number; components read from here.
 */
import type { FuseResult, ImageSource } from '../protocol/messages';

/** Where a pair's images come from. */
export interface PairInputs {
  ir: ImageSource;
  vi: ImageSource;
  label?: ImageSource;
  /** URLs for `<img>` thumbnails (object URLs for user files). */
  thumbs: { ir: string; vi: string };
  /** Object URLs to revoke when the pair goes. */
  ownedUrls: string[];
}

/** The images of a fused pair, ready to draw. */
export interface PairImages {
  width: number;
  height: number;
  fused: ImageBitmap;
  ir: ImageBitmap;
  vi: ImageBitmap;
  seg: Uint8Array | null;
  label: Uint8Array | null;
}

const inputs = new Map<string, PairInputs>();
/** Most recently used last. */
const images = new Map<string, PairImages>();

/** Results kept as bitmaps; older ones are dropped and re-fused when selected again. */
export const MAX_CACHED_RESULTS = 16;

export function setInputs(id: string, v: PairInputs): void {
  inputs.set(id, v);
}

export function getInputs(id: string): PairInputs | undefined {
  return inputs.get(id);
}

/**
 * Stores a result's images, closing the bitmaps of the previous one.
 * @returns ids whose images were evicted to stay within {@link MAX_CACHED_RESULTS}.
 */
export function setImages(id: string, r: FuseResult, keep: string | null = null): string[] {
  const old = images.get(id);
  images.delete(id);
  images.set(id, {
    width: r.width, height: r.height, fused: r.fused, ir: r.ir, vi: r.vi, seg: r.seg, label: r.label,
  });
  if (old) for (const b of [old.fused, old.ir, old.vi]) b.close();
  const evicted: string[] = [];
  for (const k of images.keys()) {
    if (images.size <= MAX_CACHED_RESULTS) break;
    if (k === id || k === keep) continue;
    const im = images.get(k)!;
    for (const b of [im.fused, im.ir, im.vi]) b.close();
    images.delete(k);
    evicted.push(k);
  }
  return evicted;
}

/** A pair's images (marks them recently used). */
export function getImages(id: string): PairImages | undefined {
  const im = images.get(id);
  if (im) {
    images.delete(id);
    images.set(id, im);
  }
  return im;
}

/** Forgets a pair: closes bitmaps and revokes object URLs. */
export function dropPair(id: string): void {
  const im = images.get(id);
  if (im) for (const b of [im.fused, im.ir, im.vi]) b.close();
  images.delete(id);
  const inp = inputs.get(id);
  if (inp) for (const u of inp.ownedUrls) URL.revokeObjectURL(u);
  inputs.delete(id);
}
