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
const images = new Map<string, PairImages>();

export function setInputs(id: string, v: PairInputs): void {
  inputs.set(id, v);
}

export function getInputs(id: string): PairInputs | undefined {
  return inputs.get(id);
}

/** Stores a result's images, closing the bitmaps of the previous one. */
export function setImages(id: string, r: FuseResult): void {
  const old = images.get(id);
  images.set(id, {
    width: r.width, height: r.height, fused: r.fused, ir: r.ir, vi: r.vi, seg: r.seg, label: r.label,
  });
  if (old) for (const b of [old.fused, old.ir, old.vi]) b.close();
}

export function getImages(id: string): PairImages | undefined {
  return images.get(id);
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
