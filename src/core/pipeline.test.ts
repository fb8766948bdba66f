import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from './testing';
import { aspectsDiffer, AspectMismatchError, createPipeline, PairRefusedError, webgpuMaxPixels, type PipelineDefs } from './pipeline';
import { centreCropToAspect } from './image/resize';
import type { RawImage } from './types';

beforeAll(() => useBackend('cpu'));

// Stand-in models with known outputs: F = mean of IR and Y_vis; S's class = round(8 * luma of
// the fused RGB it gets); one 'car' peak at a fixed cell of the detection grid.
const defs: PipelineDefs = {
  fusion: { stride: 8, apply: (_p, x) => tf.mean(x, 3, true) },
  segdet: {
    stride: 4,
    apply: (_p, rgb) => {
      const y = tf.sum(tf.mul(rgb, tf.tensor1d([0.299, 0.587, 0.114])), 3, true);
      const k = tf.reshape(tf.range(0, 9), [1, 1, 1, 9]).div(8);
      const seg = tf.neg(tf.abs(tf.sub(y, k))) as tf.Tensor4D;
      const [b, h, w] = y.shape;
      const heat = tf.buffer([b, h / 4, w / 4, 7]);
      for (let i = 0; i < h / 4; i++) for (let j = 0; j < w / 4; j++) for (let c = 0; c < 3; c++) heat.set(-10, 0, i, j, c);
      heat.set(5, 0, 2, 3, 2); // car at cell (y=2, x=3), anchor (12, 8) px: box 10..18 × 6..14
      [2, 2, 6, 6].forEach((d, i) => heat.set(d / 16, 0, 2, 3, 3 + i));
      return { seg, det: heat.toTensor() as tf.Tensor4D };
    },
  },
};

function image(w: number, h: number, channels: 1 | 3, f: (x: number, y: number, c: number) => number): RawImage {
  const data = new Uint8Array(w * h * channels);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < channels; c++) data[(y * w + x) * channels + c] = f(x, y, c);
  return { width: w, height: h, channels, data };
}

describe('pipeline', () => {
  const p = createPipeline({ fusion: {}, segdet: {} }, defs);

  it('fuses grey IR with RGB VI at any size, crops back, keeps VI chroma, and leaks no tensors', async () => {
    const ir = image(37, 29, 1, (x, y) => (x * 7 + y * 3) % 256);
    // Colours mild enough that the fused RGB never clips, so S's luma is the fused Y.
    const vi = image(37, 29, 3, (x, y, c) => (c === 0 ? 140 : c === 1 ? 120 : 100) - (x % 3));
    const before = tf.memory().numTensors;
    // S at full size, so that every pixel's class can be checked.
    const r = await p.run(ir, vi, { taskScale: 1 });
    expect(tf.memory().numTensors).toBe(before);
    expect([r.width, r.height, r.scale, r.fusedY.length, r.rgb.length, r.seg.length]).toEqual([37, 29, 1, 37 * 29, 37 * 29 * 4, 37 * 29]);
    expect(r.notices).toEqual([]);
    for (const i of [0, 100, 37 * 29 - 1]) {
      const x = i % 37;
      const viY = 0.299 * (140 - (x % 3)) + 0.587 * (120 - (x % 3)) + 0.114 * (100 - (x % 3));
      const want = (ir.data[i] + viY) / 2;
      expect(Math.abs(r.fusedY[i] - want)).toBeLessThanOrEqual(0.51);
      expect(r.seg[i]).toBe(Math.round((8 * want) / 255));
      // Red stays above green above blue: chroma comes from VI.
      expect(r.rgb[4 * i]).toBeGreaterThan(r.rgb[4 * i + 1]);
      expect(r.rgb[4 * i + 1]).toBeGreaterThan(r.rgb[4 * i + 2]);
    }
    expect(r.detections).toHaveLength(1);
    const [x1, y1, x2, y2, cls, score] = r.detections[0];
    expect([x1, y1, x2, y2, cls].map((v) => Math.round(v * 1e4) / 1e4)).toEqual([10, 6, 18, 14, 2]);
    expect(score).toBeGreaterThan(0.99);
  });

  it('runs S on a smaller copy when asked, and maps its classes and boxes back to the full size', async () => {
    const ir = image(64, 48, 1, () => 90);
    const vi = image(64, 48, 1, () => 150);
    const before = tf.memory().numTensors;
    const r = await p.run(ir, vi, { taskScale: 0.5 });
    expect(tf.memory().numTensors).toBe(before);
    expect([r.width, r.height, r.seg.length]).toEqual([64, 48, 64 * 48]);
    expect(new Set(r.seg)).toEqual(new Set([Math.round((8 * 120) / 255)]));
    // The stand-in's box, 10..18 × 6..14 px in S's 32×24 input, is twice that in the image.
    expect(r.detections).toHaveLength(1);
    expect(r.detections[0].slice(0, 5).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([20, 12, 36, 28, 2]);
    const full = await p.run(ir, vi, { taskScale: 1 });
    expect(full.detections[0].slice(0, 4).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([10, 6, 18, 14]);
    for (const bad of [0, 1.5, Number.NaN]) await expect(p.run(ir, vi, { taskScale: bad })).rejects.toThrow(/taskScale must be in \(0, 1\]/);
  });

  it('treats R=G=B images as grey and gives a grey fused RGB for a grey VI', async () => {
    const ir = image(16, 16, 3, (x) => x * 10);
    const vi = image(16, 16, 1, (x, y) => y * 20);
    const r = await p.run(ir, vi, { tasks: false });
    expect(r.seg.length).toBe(0);
    expect(r.detections).toEqual([]);
    for (let i = 0; i < 16 * 8; i++) {
      expect(r.rgb[4 * i]).toBe(r.fusedY[i]);
      expect(r.rgb[4 * i + 2]).toBe(r.fusedY[i]);
    }
    expect(r.fusedY[3 * 16 + 5]).toBe(Math.round((50 + 60) / 2));
  });

  it('resizes a VI of another size and reduces inputs above maxSide, with notices', async () => {
    const ir = image(120, 80, 1, () => 100);
    const vi = image(60, 40, 3, () => 100);
    const r = await p.run(ir, vi, { maxSide: 60 });
    expect([r.width, r.height, r.scale]).toEqual([60, 40, 0.5]);
    expect(r.ir.width).toBe(60);
    expect(r.notices).toEqual([
      { level: 'warn', code: 'resized', message: 'visible image 60x40 resized to the infrared size 120x80' },
      { level: 'info', code: 'downscaled', message: '120x80 is above 60 px: processed at 60x40' },
    ]);
    expect(r.fusedY.every((v) => v === 100)).toBe(true);
  });

  it('reduces inputs above a pixel budget, counted after padding to the models\' stride, with a notice', async () => {
    const ir = image(120, 80, 1, () => 100);
    const vi = image(120, 80, 1, () => 100);
    // Padded to the stride 8 the pair is 120x80 = 9,600 px: within 9,600, above 4,000.
    expect((await p.run(ir, vi, { maxPixels: 9600 })).notices).toEqual([]);
    const r = await p.run(ir, vi, { maxSide: 100, maxPixels: 4000 });
    expect(Math.ceil(r.width / 8) * 8 * Math.ceil(r.height / 8) * 8).toBeLessThanOrEqual(4000);
    expect(r.width / r.height).toBeCloseTo(1.5, 1);
    expect(r.scale).toBeCloseTo(r.width / 120, 2);
    expect(r.notices).toEqual([{ level: 'info', code: 'downscaled', message: `120x80 is above 0.00400 megapixels, the most this device runs in one pass: processed at ${r.width}x${r.height}` }]);
  });

  it('sizes the WebGPU pixel budget from the dispatch and binding limits', () => {
    // 65,535 workgroups of 32 pixels; S's largest activation takes 64 bytes per pixel.
    expect(webgpuMaxPixels({ maxComputeWorkgroupsPerDimension: 65535, maxStorageBufferBindingSize: 2 ** 27 })).toBe(2_097_120);
    expect(webgpuMaxPixels({ maxComputeWorkgroupsPerDimension: 65535, maxStorageBufferBindingSize: 2 ** 26 })).toBe(2 ** 20);
    expect(webgpuMaxPixels({ maxComputeWorkgroupsPerDimension: 65535, maxStorageBufferBindingSize: 2 ** 32 - 4 })).toBe(2_097_120);
  });

  it('holds a pair whose aspect ratios differ until told to stretch or centre-crop it', async () => {
    const ir = image(64, 48, 1, () => 100);
    // Portrait visible image: a bright band in the middle rows, dark above and below.
    const vi = image(48, 64, 1, (_x, y) => (y >= 14 && y < 50 ? 200 : 0));
    await expect(p.run(ir, vi, { tasks: false })).rejects.toThrow(AspectMismatchError);
    await expect(p.run(ir, vi, { tasks: false })).rejects.toThrow('aspect ratios differ: infrared 64x48 (1.33), visible 48x64 (0.75); stretched, the pair would be misaligned');
    const stretched = await p.run(ir, vi, { tasks: false, aspect: 'stretch' });
    expect(stretched.notices[0]).toMatchObject({ code: 'resized', message: expect.stringMatching(/stretched to the infrared size 64x48, as chosen/) });
    // Stretched, the dark rows stay; cropped to 4:3 about the centre (48x36, rows 14..49) they go.
    expect(Math.min(...stretched.vi.data)).toBe(0);
    const cropped = await p.run(ir, vi, { tasks: false, aspect: 'crop' });
    expect(cropped.notices[0]).toEqual({ level: 'warn', code: 'cropped', message: 'visible image 48x64 centre-cropped to 48x36 (the infrared aspect) and resized to 64x48, as chosen' });
    expect([cropped.vi.width, cropped.vi.height]).toEqual([64, 48]);
    expect(Math.min(...cropped.vi.data)).toBe(200);
    // Within 1 % the aspect is the same: resized without asking.
    expect((await p.run(ir, image(97, 73, 1, () => 0), { tasks: false })).notices[0].code).toBe('resized');
  });

  it('centre-crops to an aspect, keeping the middle', () => {
    const im = image(6, 2, 1, (x) => x);
    expect(centreCropToAspect(im, 1)).toEqual({ width: 2, height: 2, channels: 1, data: new Uint8ClampedArray([2, 3, 2, 3]) });
    expect(centreCropToAspect(im, 3)).toBe(im);
    expect(aspectsDiffer({ width: 640, height: 480 }, { width: 645, height: 480 })).toBe(false);
    expect(aspectsDiffer({ width: 640, height: 480 }, { width: 480, height: 640 })).toBe(true);
  });

  it('refuses a pair too small to mean anything, saying why', async () => {
    await expect(p.run(image(1, 1, 1, () => 9), image(1, 1, 3, () => 9))).rejects.toThrow('the infrared image is 1x1: too small to fuse (at least 16 px on each side)');
    await expect(p.run(image(64, 48, 1, () => 9), image(64, 15, 3, () => 9))).rejects.toThrow(PairRefusedError);
  });

  it('rejects malformed images with a clear message', async () => {
    await expect(p.run({ width: 4, height: 4, channels: 1, data: new Uint8Array(3) }, image(4, 4, 1, () => 0))).rejects.toThrow(/infrared image: 3 bytes for 4x4x1/);
  });
});
