import { beforeAll, describe, expect, it } from 'vitest';
import { colourClassMap, layoutLabels, SEG_COLORS, type Region } from './render';

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

describe('layoutLabels', () => {
  const overlap = (a: Region, b: Region) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

  it('puts a lone label above its box, or inside its top edge at the image top', () => {
    expect(layoutLabels([{ x1: 10, y1: 50, x2: 60, y2: 90, w: 40 }], 14, 200, 100)).toEqual([{ x: 10, y: 36, w: 40, h: 14 }]);
    expect(layoutLabels([{ x1: 10, y1: 5, x2: 60, y2: 90, w: 40 }], 14, 200, 100)).toEqual([{ x: 10, y: 5, w: 40, h: 14 }]);
  });

  it('keeps labels inside the image', () => {
    const [r] = layoutLabels([{ x1: 190, y1: 50, x2: 199, y2: 60, w: 40 }], 14, 200, 100);
    expect(r).toEqual({ x: 160, y: 36, w: 40, h: 14 });
  });

  it('never overlaps two labels in a crowd, and leaves out those with no free spot', () => {
    // A seeded crowd: 60 boxes in a 320×240 image, many on top of each other.
    let seed = 7;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const boxes = Array.from({ length: 60 }, () => {
      const x1 = rnd() * 280, y1 = rnd() * 200;
      return { x1, y1, x2: x1 + 10 + rnd() * 40, y2: y1 + 10 + rnd() * 40, w: 40 + rnd() * 30 };
    });
    const spots = layoutLabels(boxes, 14, 320, 240);
    const placed = spots.filter((r): r is Region => r !== null);
    expect(placed.length).toBeGreaterThan(10);
    expect(placed.length).toBeLessThan(60);
    for (let i = 0; i < placed.length; i++) {
      const r = placed[i];
      expect(r.x >= 0 && r.y >= 0 && r.x + r.w <= 320 && r.y + r.h <= 240).toBe(true);
      for (let j = i + 1; j < placed.length; j++) expect(overlap(r, placed[j]), `${i} and ${j}`).toBe(false);
    }
    // The first (most confident) box always gets its label.
    expect(spots[0]).not.toBeNull();
  });
});
