/**
 * The one reader of segmentation label images: class index per pixel from the first channel,
 * checked against the MSRS classes (a label with other values is not a class map, e.g. a
 * colour-coded visualisation, and would make every score meaningless).
 */
import { NUM_SEG_CLASSES, type RawImage } from '../types';

/** A label image whose values are not class indices. */
export class LabelError extends Error {
  constructor(readonly value: number, readonly pixel: number) {
    super(`label value ${value} at pixel ${pixel} is not a class index 0..${NUM_SEG_CLASSES - 1}`);
  }
}

/**
 * Class indices of a label image (values from its first channel).
 * @throws LabelError at the first value that is not a class index.
 */
export function labelIndices(img: RawImage): Uint8Array {
  const n = img.width * img.height;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = img.data[i * img.channels];
    if (!(v < NUM_SEG_CLASSES)) throw new LabelError(v, i);
    out[i] = v;
  }
  return out;
}
