/**
 * Training pairs from pairs as read, for a fine-tune in the page or the CLI alike: each pair's
 * task targets come from its label (and boxes), else from the pretrained models (pseudo-labels:
 * S on the pretrained F's fused image), and the fine-tune is refused when task terms are on
 * and a pair can have neither. Reading files stays with each front end; checking a label
 * against its image happens here, once.
 */
import { imageToY, interleavedChroma } from '../image/color';
import { labelIndices } from '../image/label';
import { resizeLabels } from '../image/resize';
import type { LabelSource } from '../runs/record';
import type { Detection, GroundTruthBox, RawImage } from '../types';
import type { TrainPair } from './batch';

/** A pair as a front end read it: both images at one size, and what it knows of its targets. */
export interface ReadPair {
  /** What the pair's label source is listed under (the page's pair id, the CLI's stem). */
  key: string;
  stem: string;
  ir: RawImage;
  /** The visible image at the infrared image's size. */
  vi: RawImage;
  /** Class index per pixel at that size (see {@link checkLabel}). */
  label?: Uint8Array;
  /** Ground-truth boxes in pixels at that size. */
  boxes?: GroundTruthBox[];
}

/** S's prediction on a pair: class map and detections at the pair's size. */
export type PseudoLabeller = (ir: RawImage, vi: RawImage) => Promise<{ seg: Uint8Array | null; detections: Detection[]; width: number; height: number }>;

/** Largest side a training pair is read at (and pseudo-labelled at). */
export const TRAIN_MAX_SIDE = 1024;

/** Detections at or above this score become pseudo boxes. */
export const PSEUDO_BOX_SCORE = 0.3;

/**
 * A label image checked against the infrared file it belongs to (same size, class indices
 * only), as class indices resized to `size` (nearest); or why it cannot serve.
 */
export function checkLabel(
  label: RawImage, irFile: { width: number; height: number }, size: { width: number; height: number } = irFile,
): { indices: Uint8Array } | { code: 'label-size' | 'label-unreadable'; message: string } {
  if (label.width !== irFile.width || label.height !== irFile.height) {
    return { code: 'label-size', message: `Label ignored: it is ${label.width}×${label.height}, the infrared image is ${irFile.width}×${irFile.height}.` };
  }
  let indices: Uint8Array;
  try {
    indices = labelIndices(label);
  } catch (e) {
    return { code: 'label-unreadable', message: `Label ignored: ${(e as Error).message}.` };
  }
  const same = size.width === label.width && size.height === label.height;
  return { indices: same ? indices : resizeLabels(indices, label.width, label.height, size.width, size.height) };
}

/**
 * Training pairs with their task targets; see the module comment.
 * @param o.taskOn whether the fine-tune has task terms (then every pair needs targets)
 * @param o.pseudoLabel S on the pretrained F, for pairs without a label (absent: no S loaded)
 * @param o.between called between pairs (a driver's cancel check)
 * @throws when task terms are on and some pair has no label and no S can make one.
 */
export async function prepareTrainPairs(
  read: readonly ReadPair[], o: { taskOn: boolean; pseudoLabel?: PseudoLabeller; between?: () => void },
): Promise<{ pairs: TrainPair[]; labelSources: Record<string, LabelSource>; notes: string[] }> {
  const labelSources: Record<string, LabelSource> = {};
  const pairs: TrainPair[] = [];
  for (const r of read) {
    o.between?.();
    const { width, height } = r.ir;
    const p: TrainPair = { stem: r.stem, width, height, ir: imageToY(r.ir), vi: imageToY(r.vi), chroma: interleavedChroma(r.vi) };
    if (r.label) {
      p.label = r.label;
      if (r.boxes) p.boxes = r.boxes;
      labelSources[r.key] = 'label';
    } else if (o.taskOn && o.pseudoLabel) {
      const out = await o.pseudoLabel(r.ir, r.vi);
      if (out.seg && out.width === width && out.height === height) {
        p.label = out.seg;
        p.boxes = out.detections.filter((b) => b[5] >= PSEUDO_BOX_SCORE).map((b) => [b[0], b[1], b[2], b[3], b[4]] as GroundTruthBox);
        labelSources[r.key] = 'pseudo';
      } else {
        labelSources[r.key] = 'none';
      }
    } else {
      if (r.boxes) p.boxes = r.boxes;
      labelSources[r.key] = r.boxes ? 'label' : 'none';
    }
    pairs.push(p);
  }
  const notes: string[] = [];
  if (o.taskOn) {
    const count = (s: LabelSource) => Object.values(labelSources).filter((x) => x === s).length;
    const nPseudo = count('pseudo'), nNone = count('none');
    notes.push(`Task targets: ${pairs.length - nPseudo - nNone} pair(s) with label PNGs/boxes, ${nPseudo} with pseudo-labels from the pretrained segmenter` +
      `${nNone ? `, ${nNone} without any (no segmenter for pseudo-labels)` : ''}.`);
    if (nNone > 0) {
      throw new Error(`${nNone} training pair(s) have no label and no segmenter is loaded to make pseudo-labels: ` +
        'set the segmentation and detection weights to 0, or train on labelled pairs only');
    }
  }
  return { pairs, labelSources, notes };
}
