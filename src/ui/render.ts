/**
 * The one overlay painter of the page (the viewer's stages, the comparison's cells and the PNG
 * downloads all draw through it): class-map colouring, detection and ground-truth boxes, and a
 * fused image with both as the settings say. All cheap (one pass over a class map, a few boxes).
 */
import type { Detection } from '../protocol/messages';
import type { ResultImages } from './cache';
import type { GtBox, Settings, ViewName } from './store/store';

export { DET_COLORS, SEG_COLORS } from '../core/image/palette';
import { DET_COLORS, SEG_COLORS } from '../core/image/palette';

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

/** A region of an image, in its pixels. */
export interface Region {
  x: number;
  y: number;
  w: number;
  h: number;
}

function overlaps(a: Region, b: Region): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/**
 * Places one label per box so that no two labels overlap: each box, in the given order (the
 * caller puts the most confident first), takes the first free spot of: above its top edge,
 * inside its top edge, below its bottom edge, then stacked further up or down from those, a
 * label's height at a time; kept inside the image. A label with no free spot is left out
 * (`null`): its box is still drawn, and the inspector lists every detection.
 */
export function layoutLabels(boxes: { x1: number; y1: number; x2: number; y2: number; w: number }[], labelH: number, width: number, height: number): (Region | null)[] {
  const placed: Region[] = [];
  const maxStack = 3;
  return boxes.map((b) => {
    const w = Math.min(b.w, width);
    const x = Math.min(Math.max(0, b.x1), width - w);
    const ys = [b.y1 - labelH, b.y1, b.y2];
    for (let k = 1; k <= maxStack; k++) ys.push(b.y1 - labelH * (k + 1), b.y2 + labelH * k);
    for (const y of ys) {
      if (y < 0 || y + labelH > height) continue;
      const r = { x, y, w, h: labelH };
      if (placed.every((p) => !overlaps(p, r))) {
        placed.push(r);
        return r;
      }
    }
    return null;
  });
}

/**
 * Draws the detections above the threshold (and the ground truth, dashed) as the settings say:
 * every box first, then the labels, placed by {@link layoutLabels}, on top.
 * @returns the labels drawn, in image pixels (for the page's tests and tooltips), and how many were left out.
 */
export function drawBoxes(
  ctx: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D, dets: Detection[], gt: GroundTruth, classes: string[],
  s: Settings, width: number, height: number,
): { labels: (Region & { text: string })[]; elided: number } {
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
  if (!s.showDet) return { labels: [], elided: 0 };
  const shown = dets.filter((d) => d[5] >= s.detThreshold).sort((a, b) => b[5] - a[5]);
  ctx.lineWidth = lw;
  for (const [x1, y1, x2, y2, c] of shown) {
    ctx.strokeStyle = DET_COLORS[c] ?? '#ffffff';
    ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
  }
  const texts = shown.map(([, , , , c, score]) => `${classes[c] ?? c} ${score.toFixed(2)}`);
  const spots = layoutLabels(
    shown.map(([x1, y1, x2, y2], i) => ({ x1: x1 - lw / 2, y1, x2, y2, w: ctx.measureText(texts[i]).width + 8 })),
    font + 4, width, height,
  );
  const labels: (Region & { text: string })[] = [];
  spots.forEach((r, i) => {
    if (!r) return;
    ctx.fillStyle = DET_COLORS[shown[i][4]] ?? '#ffffff';
    ctx.fillRect(r.x, r.y, r.w, r.h);
    ctx.fillStyle = '#111';
    ctx.fillText(texts[i], r.x + 4, r.y + 2, r.w - 8);
    labels.push({ ...r, text: texts[i] });
  });
  return { labels, elided: shown.length - labels.length };
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
  drawBoxes(ctx, im.detections, gt, classes, s, im.width, im.height);
}

/** A result's fused image as PNG: exact pixels, or with the overlays as shown. */
export function resultPng(im: ResultImages, overlays: { gt: GroundTruth; classes: string[]; settings: Settings } | null): Promise<Blob> {
  const c = new OffscreenCanvas(im.width, im.height);
  const ctx = c.getContext('2d')!;
  if (overlays) paintResult(ctx, im, overlays.gt, overlays.classes, overlays.settings);
  else ctx.drawImage(im.fused, 0, 0);
  return c.convertToBlob({ type: 'image/png' });
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
