import { describe, expect, it } from 'vitest';
import { decodeImage, encodePng } from './image-io';

describe('image-io', () => {
  it('round-trips a grey PNG and expands it to RGBA with R=G=B', () => {
    const data = new Uint8Array([0, 64, 128, 255, 7, 9]);
    const png = encodePng({ width: 3, height: 2, channels: 1, data });
    const back = decodeImage(png);
    expect([back.width, back.height, back.channels]).toEqual([3, 2, 4]);
    for (let i = 0; i < 6; i++) {
      expect([back.data[4 * i], back.data[4 * i + 1], back.data[4 * i + 2]]).toEqual([data[i], data[i], data[i]]);
    }
  });
  it('names the file when bytes are not an image', () => {
    expect(() => decodeImage(new Uint8Array([1, 2, 3, 4]), 'x.png')).toThrow(/x\.png: not a PNG or JPEG/);
  });
  it('names the file when a PNG is truncated', () => {
    const png = encodePng({ width: 4, height: 4, channels: 3, data: new Uint8Array(48).fill(100) });
    expect(() => decodeImage(png.subarray(0, 40), 'broken.png')).toThrow(/broken\.png: cannot decode/);
  });
});
