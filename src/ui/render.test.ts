import { beforeAll, describe, expect, it } from 'vitest';
import { colourClassMap, SEG_COLORS } from './render';

beforeAll(() => {
  // Node has no ImageData: the shape the DOM's has (RGBA bytes, row-major).
  if (!('ImageData' in globalThis)) {
    (globalThis as Record<string, unknown>).ImageData = class {
      readonly data: Uint8ClampedArray;
      constructor(readonly width: number, readonly height: number) { this.data = new Uint8ClampedArray(width * height * 4); }
    };
  }
});

describe('colourClassMap', () => {
  it('paints each shown class in its colour, opaque; unlabelled, hidden and unknown ids stay transparent', () => {
    const classes = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 255, 2]);
    const out = colourClassMap(classes, 4, 3, [3, 7]);
    for (let i = 0; i < classes.length; i++) {
      const c = classes[i];
      const px = Array.from(out.data.subarray(i * 4, i * 4 + 4));
      const shown = c > 0 && c < SEG_COLORS.length && c !== 3 && c !== 7;
      expect(px, `pixel ${i}, class ${c}`).toEqual(shown ? [...SEG_COLORS[c], 255] : [0, 0, 0, 0]);
    }
  });
});
