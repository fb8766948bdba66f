/**
 * The pair list's thumbnails, made small once (104 px wide, a tiny PNG each). Full-size images
 * shown at 52 px were decoded again by the software rasteriser on many frames (about 10 ms a
 * 640×480 PNG, 1.6 s over a set comparison of 20 pairs in the trace), and held a full decoded
 * image per row. One at a time, off the main thread as far as the browser can (the decode and
 * resize of `createImageBitmap`). Data URLs, not object URLs: `URL.createObjectURL` registers
 * the blob with the browser process by a synchronous call; in a CPU profile of the page opening
 * here it took most of a 65 ms main-thread task.
 */
import type { ImageSource } from '../protocol/messages';
import { getInputs } from './cache';

const THUMB_WIDTH = 104;
let queue: Promise<unknown> = Promise.resolve();

function dataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result as string);
    r.onerror = () => reject(r.error ?? new Error('thumbnail unreadable'));
    r.readAsDataURL(blob);
  });
}

async function thumbnail(src: ImageSource): Promise<string> {
  const from = src.kind === 'bitmap' ? src.bitmap : src.kind === 'blob' ? src.blob : await (await fetch(src.url)).blob();
  const bmp = await createImageBitmap(from, { resizeWidth: THUMB_WIDTH, resizeQuality: 'medium' });
  try {
    const canvas = new OffscreenCanvas(bmp.width, bmp.height);
    canvas.getContext('2d')!.drawImage(bmp, 0, 0);
    return await dataUrl(await canvas.convertToBlob({ type: 'image/png' }));
  } finally {
    bmp.close();
  }
}

/**
 * A pair's thumbnails (IR, VI), made on first use and kept with its inputs.
 * @returns undefined for a pair without inputs, or images the browser cannot read.
 */
export function pairThumbnails(pairId: string): Promise<{ ir: string; vi: string } | undefined> {
  const inp = getInputs(pairId);
  if (!inp) return Promise.resolve(undefined);
  inp.thumbs ??= (queue = queue.then(() => Promise.all([thumbnail(inp.ir), thumbnail(inp.vi)]))
    .then(([ir, vi]) => ({ ir, vi }))) as Promise<{ ir: string; vi: string }>;
  return inp.thumbs.catch(() => undefined);
}
