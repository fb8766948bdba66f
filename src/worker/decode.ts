/**
 * Image decoding in the worker: Blob/URL → ImageBitmap → RGBA `RawImage`, with resizing.
 * Uses `createImageBitmap` and `OffscreenCanvas` (both available in workers), so decoding
 * never blocks the page.
 */
import type { RawImage } from '../core/types';
import type { ImageSource, Size } from '../protocol/messages';

/** An input file that could not be read as an image. */
export class UnreadableImageError extends Error {
  override name = 'UnreadableImageError';
}

/** Reads the bytes of a source. @throws UnreadableImageError when a URL cannot be fetched. */
async function sourceBlob(src: ImageSource): Promise<Blob> {
  if (src.kind === 'blob') return src.blob;
  const res = await fetch(src.url);
  if (!res.ok) throw new UnreadableImageError(`${src.name}: HTTP ${res.status} fetching ${src.url}`);
  return res.blob();
}

/**
 * Decodes a source to an ImageBitmap, without colour management or premultiplication so the
 * 8-bit values are the file's own.
 * @throws UnreadableImageError when the browser cannot decode it.
 */
export async function decodeBitmap(src: ImageSource): Promise<ImageBitmap> {
  const blob = await sourceBlob(src);
  if (blob.size === 0) throw new UnreadableImageError(`${src.name}: empty file`);
  try {
    return await createImageBitmap(blob, {
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
      imageOrientation: 'from-image',
    });
  } catch {
    throw new UnreadableImageError(
      `${src.name}: not a readable image (${blob.type || 'unknown type'}, ${blob.size} bytes)`,
    );
  }
}

/** Size after capping the longest side at `maxSide` (aspect kept, at least 1 px). */
export function cappedSize(size: Size, maxSide: number): Size {
  const longest = Math.max(size.width, size.height);
  if (longest <= maxSide) return { ...size };
  const s = maxSide / longest;
  return { width: Math.max(1, Math.round(size.width * s)), height: Math.max(1, Math.round(size.height * s)) };
}

/**
 * Draws a bitmap at `size` and reads RGBA pixels.
 * @param smooth bilinear/high-quality resampling (images) or nearest (label maps).
 */
export function bitmapToRaw(bmp: ImageBitmap, size: Size, smooth = true): RawImage {
  const canvas = new OffscreenCanvas(size.width, size.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('OffscreenCanvas 2d context unavailable');
  ctx.imageSmoothingEnabled = smooth && (bmp.width !== size.width || bmp.height !== size.height);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bmp, 0, 0, size.width, size.height);
  const data = ctx.getImageData(0, 0, size.width, size.height).data;
  return { width: size.width, height: size.height, channels: 4, data };
}

/** Converts a raw image (1, 3 or 4 channels) to an ImageBitmap for display. */
export async function rawToBitmap(img: RawImage): Promise<ImageBitmap> {
  const n = img.width * img.height;
  let rgba: Uint8ClampedArray<ArrayBuffer>;
  if (img.channels === 4) {
    rgba = new Uint8ClampedArray(img.data);
  } else {
    rgba = new Uint8ClampedArray(n * 4);
    const c = img.channels;
    for (let i = 0, o = 0, p = 0; i < n; i++, o += 4, p += c) {
      const r = img.data[p];
      rgba[o] = r;
      rgba[o + 1] = c === 1 ? r : img.data[p + 1];
      rgba[o + 2] = c === 1 ? r : img.data[p + 2];
      rgba[o + 3] = 255;
    }
  }
  return createImageBitmap(new ImageData(rgba, img.width, img.height), {
    colorSpaceConversion: 'none',
    premultiplyAlpha: 'none',
  });
}

/** Reads a label PNG (class index per pixel, first channel) at `size`, nearest-neighbour. */
export function bitmapToLabel(bmp: ImageBitmap, size: Size): Uint8Array {
  const raw = bitmapToRaw(bmp, size, false);
  const n = size.width * size.height;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = raw.data[i * 4];
  return out;
}
