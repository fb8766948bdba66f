import { describe, expect, it } from 'vitest';
import { largestWindow } from './pairs-figure';

describe('largestWindow', () => {
  it('finds the window of the largest summed difference on its 8-px grid', () => {
    const w = 64, h = 48;
    const d = new Float32Array(w * h);
    for (let y = 24; y < 40; y++) for (let x = 40; x < 56; x++) d[y * w + x] = 1;
    d[0] = 5; // one bright pixel loses to a block of many
    expect(largestWindow(d, w, h, 16, 16)).toEqual({ x: 40, y: 24 });
    expect(largestWindow(new Float32Array(w * h), w, h, 16, 16)).toEqual({ x: 0, y: 0 });
  });
});
