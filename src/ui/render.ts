/**
 * The one overlay painter of the page (the viewer's stages, the comparison's cells and the PNG
 * downloads all draw through it): class-map colouring, detection and ground-truth boxes, and a
 * fused image with both as the settings say. All cheap (one pass over a class map, a few boxes).
 */
import type { Detection } from '../protocol/messages';
import type { ResultImages } from './cache';
import type { GtBox, Settings, ViewName } from './store/store';

/** Segmentation colours by MSRS class id (0 = unlabelled is never drawn). */
export const SEG_COLORS: [number, number, number][] = [
  [0, 0, 0], // unlabelled
  [66, 133, 244], // car
  [234, 67, 53], // person
  [251, 188, 5], // bike
  [52, 168, 83], // curve
  [171, 71, 188], // car_stop
  [0, 172, 193], // guardrail
  [255, 112, 67], // color_cone
  [158, 157, 36], // bump
];

/** Detection colours by detection class (person, bicycle, car), matching the seg colours. */
export const DET_COLORS = ['#ea4335', '#fbbc05', '#4285f4'];

export function rgbCss([r, g, b]: [number, number, number]): string {
  return `rgb(${r}, ${g}, ${b})`;
}

/**
 * Colours a class map into RGBA (alpha 255 for shown classes, 0 elsewhere); opacity is applied
 * by the caller (CSS or globalAlpha), so the slider does not recolour. One 32-bit palette
 * lookup per pixel: this runs on the main thread when a result arrives, often before the JIT
 * has optimised it (a per-channel loop with a branch took about 20 ms of a 640×480 first draw).
 */
export function colourClassMap(classes: Uint8Array, width: number, height: number, hidden: number[]): ImageData {
  const out = new ImageData(width, height);
  // Written as bytes through a view of the palette, so the words are right in either byte order.
  const palette = new Uint32Array(256);
  const bytes = new Uint8Array(palette.buffer);
  SEG_COLORS.forEach((col, i) => {
    if (i === 0 || hidden.includes(i)) return;
    bytes.set([col[0], col[1], col[2], 255], i * 4);
  });
  const words = new Uint32Array(out.data.buffer, 0, width * height);
  const n = Math.min(classes.length, words.length);
  for (let i = 0; i < n; i++) words[i] = palette[classes[i]];
  return out;
}

/** The bitmap of a view (IR and VI: of a pretrained result; a run's shows its fused image). */
export function viewBitmap(im: ResultImages, v: ViewName): ImageBitmap {
  return (v === 'ir' ? im.ir : v === 'vi' ? im.vi : undefined) ?? im.fused;
}

/** The class map the settings show: the prediction or the ground-truth label. */
export function shownClassMap(im: ResultImages, s: Settings): Uint8Array | null {
  return s.segSource === 'label' ? im.label : im.seg;
}

/** Ground-truth boxes of a pair, and their scale from the file's size to the result's. */
export interface GroundTruth {
  boxes?: GtBox[];
  scale: [number, number];
}

/** A pair's ground-truth boxes (given at the file's size) for a result of `size`. */
export function groundTruth(boxes: GtBox[] | undefined, source: { width: number; height: number } | undefined, size: { width: number; height: number }): GroundTruth {
  return { boxes, scale: source ? [size.width / source.width, size.height / source.height] : [1, 1] };
}

/** Draws the detections above the threshold (and the ground truth, dashed) as the settings say. */
export function drawBoxes(
  ctx: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D, dets: Detection[], gt: GroundTruth, classes: string[],
  s: Settings, height: number,
): void {
  const gs = gt.scale;
  const lw = Math.max(2, Math.round(height / 240));
  const font = Math.max(10, Math.round(height / 44));
  ctx.font = `600 ${font}px system-ui, sans-serif`;
  ctx.textBaseline = 'top';
  if (s.showGt && gt.boxes) {
    ctx.setLineDash([lw * 3, lw * 2]);
    ctx.lineWidth = lw;
    ctx.strokeStyle = '#ffffff';
    for (const [x1, y1, x2, y2] of gt.boxes) ctx.strokeRect(x1 * gs[0], y1 * gs[1], (x2 - x1) * gs[0], (y2 - y1) * gs[1]);
    ctx.setLineDash([]);
  }
  if (!s.showDet) return;
  for (const [x1, y1, x2, y2, c, score] of dets) {
    if (score < s.detThreshold) continue;
    const col = DET_COLORS[c] ?? '#ffffff';
    ctx.lineWidth = lw;
    ctx.strokeStyle = col;
    ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
    const text = `${classes[c] ?? c} ${score.toFixed(2)}`;
    const w = ctx.measureText(text).width + 8;
    const ty = y1 - font - 4 >= 0 ? y1 - font - 4 : y1;
    ctx.fillStyle = col;
    ctx.fillRect(x1 - lw / 2, ty, w, font + 4);
    ctx.fillStyle = '#111';
    ctx.fillText(text, x1 + 4 - lw / 2, ty + 2);
  }
}

/** Saves a blob under a file name. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Paints a result's fused image with its overlays as the settings say, at the image's size. */
export function paintResult(
  ctx: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D, im: ResultImages, gt: GroundTruth, classes: string[], s: Settings,
): void {
  ctx.drawImage(im.fused, 0, 0);
  const map = shownClassMap(im, s);
  if (s.showSeg && map) {
    const layer = new OffscreenCanvas(im.width, im.height);
    layer.getContext('2d')!.putImageData(colourClassMap(map, im.width, im.height, s.segHidden), 0, 0);
    ctx.globalAlpha = s.segOpacity;
    ctx.drawImage(layer, 0, 0);
    ctx.globalAlpha = 1;
  }
  drawBoxes(ctx, im.detections, gt, classes, s, im.height);
}

/** A result's fused image as PNG: exact pixels, or with the overlays as shown. */
export function resultPng(im: ResultImages, overlays: { gt: GroundTruth; classes: string[]; settings: Settings } | null): Promise<Blob> {
  const c = new OffscreenCanvas(im.width, im.height);
  const ctx = c.getContext('2d')!;
  if (overlays) paintResult(ctx, im, overlays.gt, overlays.classes, overlays.settings);
  else ctx.drawImage(im.fused, 0, 0);
  return c.convertToBlob({ type: 'image/png' });
}

/** A region of an image, in its pixels. */
export interface Region {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * A paper-style inset: the region outlined in red, and magnified (2×, at most 45 % of the
 * image's width) in the bottom-right corner with a red frame.
 */
export function paintInset(ctx: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D, source: CanvasImageSource, r: Region, width: number, height: number): void {
  const lw = Math.max(2, Math.round(height / 200));
  const scale = Math.min(2, (0.45 * width) / r.w, (0.45 * height) / r.h);
  const iw = r.w * scale, ih = r.h * scale;
  const ix = width - iw - lw, iy = height - ih - lw;
  ctx.save();
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(source, r.x, r.y, r.w, r.h, ix, iy, iw, ih);
  ctx.strokeStyle = '#ff1a1a';
  ctx.lineWidth = lw;
  ctx.strokeRect(r.x, r.y, r.w, r.h);
  ctx.strokeRect(ix, iy, iw, ih);
  ctx.restore();
}

/** The colour scale of difference maps: black → red → yellow → white over [0, 1]. */
export function heatColour(t: number): [number, number, number] {
  const v = Math.min(1, Math.max(0, t)) * 3;
  return [255 * Math.min(1, v), 255 * Math.min(1, Math.max(0, v - 1)), 255 * Math.min(1, Math.max(0, v - 2))];
}
export const HEAT_GRADIENT_CSS = 'linear-gradient(to right, #000, #f00, #ff0, #fff)';

/** The pixels of a bitmap (RGBA). */
export function bitmapPixels(b: ImageBitmap): Uint8ClampedArray {
  const c = new OffscreenCanvas(b.width, b.height);
  const ctx = c.getContext('2d')!;
  ctx.drawImage(b, 0, 0);
  return ctx.getImageData(0, 0, b.width, b.height).data;
}

/**
 * |A − B| of two images of one size, on BT.601 luma in 8-bit levels, coloured on
 * {@link heatColour} from 0 to the largest difference. @returns the map and that largest difference.
 */
export function differenceMap(a: ImageBitmap, b: ImageBitmap): { image: ImageData; max: number } {
  const pa = bitmapPixels(a), pb = bitmapPixels(b);
  const n = a.width * a.height;
  const d = new Float32Array(n);
  let max = 0;
  for (let i = 0, o = 0; i < n; i++, o += 4) {
    const ya = 0.299 * pa[o] + 0.587 * pa[o + 1] + 0.114 * pa[o + 2];
    const yb = 0.299 * pb[o] + 0.587 * pb[o + 1] + 0.114 * pb[o + 2];
    d[i] = Math.abs(ya - yb);
    if (d[i] > max) max = d[i];
  }
  const image = new ImageData(a.width, a.height);
  for (let i = 0, o = 0; i < n; i++, o += 4) {
    const [r, g, bl] = heatColour(max > 0 ? d[i] / max : 0);
    image.data[o] = r;
    image.data[o + 1] = g;
    image.data[o + 2] = bl;
    image.data[o + 3] = 255;
  }
  return { image, max };
}

/**
 * Tiles side by side at full resolution, each with its caption under it and the inset when
 * one is set: the comparison grid as one figure.
 */
export function gridPng(tiles: { bitmap: ImageBitmap; label: string }[], inset: Region | null): Promise<Blob> {
  const w = tiles[0].bitmap.width, h = tiles[0].bitmap.height, gap = 8, band = Math.max(20, Math.round(h / 20));
  const c = new OffscreenCanvas(tiles.length * w + (tiles.length - 1) * gap, h + band);
  const ctx = c.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, c.width, c.height);
  ctx.font = `${Math.round(band * 0.7)}px system-ui, sans-serif`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  tiles.forEach((t, i) => {
    const x = i * (w + gap);
    ctx.save();
    ctx.translate(x, 0);
    ctx.drawImage(t.bitmap, 0, 0, w, h);
    if (inset) paintInset(ctx, t.bitmap, inset, w, h);
    ctx.restore();
    ctx.fillStyle = '#111';
    ctx.fillText(t.label, x + w / 2, h + band / 2, w - 4);
  });
  return c.convertToBlob({ type: 'image/png' });
}
