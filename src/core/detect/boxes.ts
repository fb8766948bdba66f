/**
 * Plain-array box utilities: IoU, class-wise non-maximum suppression, and box transforms that
 * follow image augmentations (flip, crop, scale).
 *
 * Boxes are `[x1, y1, x2, y2, ...rest]` in continuous pixel coordinates (x right, y down; the
 * left edge of the image is x = 0 and its right edge x = width), the convention of
 * `detection.json`. The transforms keep the extra entries (class, score) unchanged.
 */
import type { Detection, GroundTruthBox } from '../types';

/** Any box type of the core: ground truth `[x1,y1,x2,y2,cls]` or detection `[x1,y1,x2,y2,cls,score]`. */
export type AnyBox = GroundTruthBox | Detection;

/** Intersection over union of two boxes (0 when either has no area). */
export function iou(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Greedy class-wise non-maximum suppression: within each class, boxes are visited by
 * decreasing score and a box is dropped when its IoU with a kept box exceeds `iouThreshold`.
 * Returns the kept detections sorted by decreasing score (a new array; inputs untouched).
 */
export function nms(dets: Detection[], iouThreshold: number): Detection[] {
  const sorted = [...dets].sort((p, q) => q[5] - p[5]);
  const kept: Detection[] = [];
  for (const d of sorted) {
    let keep = true;
    for (const k of kept) {
      if (k[4] === d[4] && iou(k, d) > iouThreshold) { keep = false; break; }
    }
    if (keep) kept.push(d);
  }
  return kept;
}

/** Mirrors boxes for a horizontal flip of an image `width` pixels wide: x ↦ width − x. */
export function flipBoxesHorizontal<T extends AnyBox>(boxes: readonly T[], width: number): T[] {
  return boxes.map((b) => {
    const c = [...b] as T;
    c[0] = width - b[2];
    c[2] = width - b[0];
    return c;
  });
}

/**
 * Moves boxes into a crop window `(x0, y0, width, height)` of the image: shifts, clips to the
 * window, and drops boxes with no area left or with less than `minVisible` of their original
 * area inside the window (default 0.4: a sliver of an object is a poor training target).
 */
export function cropBoxes<T extends AnyBox>(
  boxes: readonly T[], x0: number, y0: number, width: number, height: number, minVisible = 0.4,
): T[] {
  const out: T[] = [];
  for (const b of boxes) {
    const x1 = Math.max(b[0] - x0, 0), y1 = Math.max(b[1] - y0, 0);
    const x2 = Math.min(b[2] - x0, width), y2 = Math.min(b[3] - y0, height);
    if (x2 <= x1 || y2 <= y1) continue;
    const area = (b[2] - b[0]) * (b[3] - b[1]);
    if (area > 0 && ((x2 - x1) * (y2 - y1)) / area < minVisible) continue;
    const c = [...b] as T;
    c[0] = x1; c[1] = y1; c[2] = x2; c[3] = y2;
    out.push(c);
  }
  return out;
}

/** Scales boxes for a resize of the image by `sx` horizontally and `sy` vertically. */
export function scaleBoxes<T extends AnyBox>(boxes: readonly T[], sx: number, sy: number = sx): T[] {
  return boxes.map((b) => {
    const c = [...b] as T;
    c[0] = b[0] * sx; c[2] = b[2] * sx;
    c[1] = b[1] * sy; c[3] = b[3] * sy;
    return c;
  });
}

/** Clips boxes to `[0,width]×[0,height]` and drops those left with no area. */
export function clipBoxes<T extends AnyBox>(boxes: readonly T[], width: number, height: number): T[] {
  return cropBoxes(boxes, 0, 0, width, height, 0);
}
