/**
 * Image decoding in the worker: Blob/URL → ImageBitmap → RGBA `RawImage`, with resizing.
 * Uses `createImageBitmap` and `OffscreenCanvas` (both available in workers), so decoding
 * never blocks the page.
 */
import type { RawImage } from '../core/types';
import type { ImageSource, Size } from '../protocol/messages';
import { checkLabel } from '../core/train/pairs';

/** An input file that could not be read as an image. */
export class UnreadableImageError extends Error {
  override name = 'UnreadableImageError';
}

/** Reads the bytes of a source. @throws UnreadableImageError when a URL cannot be fetched. */
async function sourceBlob(src: Exclude<ImageSource, { kind: 'bitmap' }>): Promise<Blob> {
  if (src.kind === 'blob') return src.blob;
  const res = await fetch(src.url);
  if (!res.ok) throw new UnreadableImageError(`${src.name}: HTTP ${res.status} fetching ${src.url}`);
  return res.blob();
}

/** Largest image decoded (pixels); beyond it the full-size RGBA buffer risks the tab's memory. */
export const MAX_DECODE_PIXELS = 120e6;

/** Width and height from a PNG, JPEG, GIF, BMP or WebP header, or null if not recognised. */
export async function sniffSize(blob: Blob): Promise<{ width: number; height: number } | null> {
  const head = new Uint8Array(await blob.slice(0, 64 * 1024).arrayBuffer());
  const dv = new DataView(head.buffer);
  const n = head.length;
  if (n >= 24 && head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47) {
    return { width: dv.getUint32(16), height: dv.getUint32(20) };
  }
  if (n >= 10 && head[0] === 0x47 && head[1] === 0x49 && head[2] === 0x46) {
    return { width: dv.getUint16(6, true), height: dv.getUint16(8, true) };
  }
  if (n >= 26 && head[0] === 0x42 && head[1] === 0x4d) {
    return { width: Math.abs(dv.getInt32(18, true)), height: Math.abs(dv.getInt32(22, true)) };
  }
  if (n >= 30 && head[0] === 0x52 && head[1] === 0x49 && head[8] === 0x57 && head[9] === 0x45) {
    const fmt = String.fromCharCode(head[12], head[13], head[14], head[15]);
    if (fmt === 'VP8X') return { width: 1 + (head[24] | (head[25] << 8) | (head[26] << 16)), height: 1 + (head[27] | (head[28] << 8) | (head[29] << 16)) };
    if (fmt === 'VP8 ') return { width: dv.getUint16(26, true) & 0x3fff, height: dv.getUint16(28, true) & 0x3fff };
    if (fmt === 'VP8L') {
      const b = dv.getUint32(21, true);
      return { width: 1 + (b & 0x3fff), height: 1 + ((b >> 14) & 0x3fff) };
    }
  }
  if (n >= 4 && head[0] === 0xff && head[1] === 0xd8) {
    let o = 2;
    while (o + 9 < n) {
      if (head[o] !== 0xff) { o++; continue; }
      const m = head[o + 1];
      if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) { o += 2; continue; }
      const len = dv.getUint16(o + 2);
      // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC).
      if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
        return { width: dv.getUint16(o + 7), height: dv.getUint16(o + 5) };
      }
      o += 2 + len;
    }
  }
  return null;
}

/**
 * Decodes a source to an ImageBitmap, without colour management or premultiplication so the
 * 8-bit values are the file's own.
 * @throws UnreadableImageError when the browser cannot decode it.
 */
export async function decodeBitmap(src: ImageSource): Promise<ImageBitmap> {
  if (src.kind === 'bitmap') return src.bitmap;
  const blob = await sourceBlob(src);
  if (blob.size === 0) throw new UnreadableImageError(`${src.name}: empty file`);
  const size = await sniffSize(blob);
  if (size && size.width * size.height > MAX_DECODE_PIXELS) {
    throw new UnreadableImageError(
      `${src.name}: ${size.width}×${size.height} is too large to decode here (over ${MAX_DECODE_PIXELS / 1e6} megapixels)`,
    );
  }
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

/**
 * A label file as class indices at `size` (nearest), checked by the core against the infrared
 * file it belongs to; or why it is left out (unreadable, another size, not class indices).
 */
export async function readLabel(src: ImageSource, irFile: Size, size: Size = irFile): Promise<ReturnType<typeof checkLabel>> {
  let lb: ImageBitmap;
  try {
    lb = await decodeBitmap(src);
  } catch (e) {
    return { code: 'label-unreadable', message: `Label ignored: ${(e as Error).message}.` };
  }
  try {
    return checkLabel({ width: lb.width, height: lb.height, channels: 1, data: bitmapToLabel(lb, { width: lb.width, height: lb.height }) }, irFile, size);
  } finally {
    lb.close();
  }
}
