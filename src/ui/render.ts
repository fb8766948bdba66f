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
 * by the caller (CSS or globalAlpha), so the slider does not recolour.
 */
export function colourClassMap(classes: Uint8Array, width: number, height: number, hidden: number[]): ImageData {
  const out = new ImageData(width, height);
  const d = out.data;
  const show = SEG_COLORS.map((_, i) => i !== 0 && !hidden.includes(i));
  for (let i = 0, o = 0; i < classes.length; i++, o += 4) {
    const c = classes[i];
    if (c >= SEG_COLORS.length || !show[c]) continue;
    const col = SEG_COLORS[c];
    d[o] = col[0];
    d[o + 1] = col[1];
    d[o + 2] = col[2];
    d[o + 3] = 255;
  }
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
