import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { readImage } from './image-io';
import { toMetricGrey } from '../core/metrics/fusion-metrics';
import { decodeJpegAsLibjpeg } from '../core/image/jpeg';

const FIXTURES = fileURLToPath(new URL('../../test-fixtures/golden/', import.meta.url));

describe('decodeJpegAsLibjpeg', () => {
  it('reproduces the evaluator\'s (OpenCV/libjpeg-turbo) reading of 4:2:0 JPEGs pixel for pixel', async () => {
    // The golden fused images are max(IR, VI) and np.round((IR + VI) / 2) of the evaluator's
    // own grey reads of these two JPEGs, so they pin down every decoded grey pixel.
    const ir = toMetricGrey(decodeJpegAsLibjpeg(await readFile(FIXTURES + 'eval-vifb_elecbike_ir.jpg')));
    const vi = toMetricGrey(decodeJpegAsLibjpeg(await readFile(FIXTURES + 'eval-vifb_elecbike_vi.jpg')));
    const max = toMetricGrey(await readImage(FIXTURES + 'eval-vifb_elecbike_max.png'));
    const mean = toMetricGrey(await readImage(FIXTURES + 'eval-vifb_elecbike_mean.png'));
    expect(ir.length).toBe(630 * 460);
    let badMax = 0;
    let badMean = 0;
    for (let i = 0; i < ir.length; i++) {
      if (Math.max(ir[i], vi[i]) !== max[i]) badMax++;
      const s = (ir[i] + vi[i]) / 2;
      const r = Number.isInteger(s) ? s : Math.floor(s) % 2 === 0 ? Math.floor(s) : Math.ceil(s); // half to even
      if (r !== mean[i]) badMean++;
    }
    expect([badMax, badMean]).toEqual([0, 0]);
  });

  it('decodes a 4:4:4 JPEG (from jpeg-js) to within IDCT rounding of jpeg-js', () => {
    const w = 37;
    const h = 21; // not multiples of 8: exercises partial blocks
    const rgba = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) rgba.set([6 * x, 12 * y, 3 * (x + y), 255], 4 * (y * w + x));
    }
    const bytes = new Uint8Array(jpeg.encode({ width: w, height: h, data: rgba }, 90).data);
    const ours = decodeJpegAsLibjpeg(bytes);
    const ref = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    expect([ours.width, ours.height, ours.channels]).toEqual([w, h, 3]);
    let maxDiff = 0;
    for (let i = 0; i < w * h; i++) {
      for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs(ours.data[3 * i + c] - ref.data[4 * i + c]));
    }
    expect(maxDiff).toBeLessThanOrEqual(3);
  });

  it('rejects non-JPEG bytes and progressive JPEGs with a clear error', () => {
    expect(() => decodeJpegAsLibjpeg(new Uint8Array([0x89, 0x50, 0x4e, 0x47]))).toThrow(/SOI/);
    const rgba = new Uint8Array(8 * 8 * 4).fill(200);
    const bytes = new Uint8Array(jpeg.encode({ width: 8, height: 8, data: rgba }, 90).data);
    const sof = bytes.findIndex((b, i) => b === 0xff && bytes[i + 1] === 0xc0);
    bytes[sof + 1] = 0xc2; // claim progressive
    expect(() => decodeJpegAsLibjpeg(bytes)).toThrow(/progressive/);
  });
});
