import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readImage } from './image-io';
import type { FusionMetrics, RawImage } from '../core/types';
import { FUSION_METRIC_NAMES } from '../core/types';
import golden from '../../test-fixtures/golden/metrics.json';
import {
  averageGradient, entropy, fusionMetrics, mutualInfoScore, mutualInformation, qabf, spatialFrequency,
  standardDeviation, structuralSimilarity, sumOfCorrelationsOfDifferences, toMetricGrey, vifPixel,
} from '../core/metrics/fusion-metrics';
import { decodeJpegAsLibjpeg } from '../core/image/jpeg';

const FIXTURES = fileURLToPath(new URL('../../test-fixtures/golden/', import.meta.url));

/** `data/msrs/test/ir/00047N.png` -> `msrs-test_00047N_ir.png` (how the fixtures were named). */
function fixtureName(sharedPath: string): string {
  const m = /^data\/(.+)\/(ir|vi)\/([^/]+)\.(png|jpg)$/.exec(sharedPath);
  if (!m) throw new Error(`unexpected path ${sharedPath}`);
  return `${m[1].replace('/', '-')}_${m[3]}_${m[2]}.${m[4]}`;
}

/**
 * PNGs through the CLI reader; JPEGs through the libjpeg-exact decoder, because the evaluator
 * read them with OpenCV/libjpeg-turbo and jpeg-js decodes ~5 % of these pixels differently
 * (see ../image/jpeg.ts).
 */
async function readGrey(name: string): Promise<{ grey: Float64Array; img: RawImage }> {
  const file = FIXTURES + name;
  const img = name.endsWith('.jpg') ? decodeJpegAsLibjpeg(await readFile(file)) : await readImage(file);
  return { grey: toMetricGrey(img), img };
}

const grey = (w: number, h: number, f: (x: number, y: number) => number): Float64Array => {
  const a = new Float64Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) a[y * w + x] = f(x, y);
  return a;
};

/** Deterministic pseudo-random 0..255 integers (LCG), for images with texture. */
const noise = (n: number, seed: number): Float64Array => {
  const a = new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s >>> 24;
  }
  return a;
};

describe('fusion metrics vs the CDDFuse evaluator (golden values)', () => {
  // The contract is 1e-3 relative (docs/metrics.md); every value currently matches to < 1e-6
  // (the residue is the reference's float32 sums), so a tighter bound catches silent drift.
  const TOLERANCE = 1e-5;
  for (const c of golden.cases) {
    it(`matches ${c.fused}`, async () => {
      const ir = await readGrey(fixtureName(c.ir));
      const vi = await readGrey(fixtureName(c.vi));
      const f = await readGrey(c.fused.replace(/^golden\//, ''));
      const [w, h] = c.size;
      expect([f.img.width, f.img.height]).toEqual([w, h]);
      const m = fusionMetrics(ir.grey, vi.grey, f.grey, w, h);
      const want = c.values as FusionMetrics;
      for (const k of FUSION_METRIC_NAMES) {
        const rel = Math.abs(m[k] - want[k]) / Math.abs(want[k]);
        expect(rel, `${k}: got ${m[k]}, want ${want[k]}`).toBeLessThan(TOLERANCE);
      }
    });
  }
});

describe('toMetricGrey', () => {
  const rgb = (...px: number[][]): RawImage => ({ width: px.length, height: 1, channels: 3, data: Uint8Array.from(px.flat()) });

  it('reads grey, RGB and RGBA alike and ignores alpha', () => {
    expect(Array.from(toMetricGrey({ width: 3, height: 1, channels: 1, data: Uint8Array.from([0, 17, 255]) }))).toEqual([0, 17, 255]);
    expect(Array.from(toMetricGrey(rgb([255, 255, 255], [0, 0, 0], [255, 0, 0])))).toEqual([255, 0, 76]); // 0.299·255 = 76.2
    const rgba: RawImage = { width: 1, height: 1, channels: 4, data: Uint8Array.from([0, 255, 0, 0]) };
    expect(Array.from(toMetricGrey(rgba))).toEqual([150]); // 0.587·255 = 149.7
  });

  it('rounds float32 ties half to even, like np.round', () => {
    // In OpenCV's float32 arithmetic (0,0,250) gives exactly 28.5 and (0,12,4) exactly 7.5.
    expect(Array.from(toMetricGrey(rgb([0, 0, 250], [0, 12, 4])))).toEqual([28, 8]);
    // (0,80,110) is 59.4999… in float64 but exactly 59.5 in OpenCV's float32 FMA chain.
    expect(Array.from(toMetricGrey(rgb([0, 80, 110])))).toEqual([60]);
  });
});

describe('single-image metrics (hand-checked)', () => {
  const two = grey(4, 2, (_x, y) => (y === 0 ? 0 : 2)); // top row 0, bottom row 2

  it('EN is 1 bit for two equally frequent values and 0 for a flat image', () => {
    expect(entropy(two)).toBeCloseTo(1, 12);
    expect(entropy(new Float64Array(10).fill(9))).toBe(0);
  });

  it('SD is the population standard deviation', () => {
    expect(standardDeviation(two)).toBeCloseTo(1, 12);
  });

  it('SF and AG of a horizontal ramp', () => {
    const ramp = grey(5, 3, (x) => 3 * x); // dx = 3 everywhere, dy = 0
    expect(spatialFrequency(ramp, 5, 3)).toBeCloseTo(3, 12);
    // Gx = 3 everywhere (one-sided at the borders, central inside), Gy = 0: sqrt(9 / 2).
    expect(averageGradient(ramp, 5, 3)).toBeCloseTo(3 / Math.SQRT2, 12);
    // Step image: SF² = mean(dx²) = (one jump of 10 per row of 3 differences) = 100/3.
    const step = grey(4, 2, (x) => (x < 2 ? 0 : 10));
    expect(spatialFrequency(step, 4, 2)).toBeCloseTo(Math.sqrt(100 / 3), 12);
  });
});

describe('pair metrics (hand-checked)', () => {
  it('MI of an image with itself is its entropy in nats; of independent halves is 0', () => {
    const a = grey(4, 2, (_x, y) => (y === 0 ? 0 : 255));
    expect(mutualInfoScore(a, a)).toBeCloseTo(Math.LN2, 12);
    const b = grey(4, 2, (x) => (x % 2 === 0 ? 10 : 20)); // independent of a
    expect(mutualInfoScore(a, b)).toBeCloseTo(0, 12);
    expect(mutualInformation(a, b, a)).toBeCloseTo(Math.LN2, 12);
  });

  it('SCD is 2 when F = IR + VI (each difference is the other source exactly)', () => {
    const ir = noise(64, 1);
    const vi = noise(64, 2);
    const f = ir.map((v, i) => v + vi[i]);
    expect(sumOfCorrelationsOfDifferences(ir, vi, f)).toBeCloseTo(2, 12);
  });

  it('VIF of an image against itself is 1, and lower for a blurred copy', () => {
    const w = 64;
    const h = 64;
    const a = noise(w * h, 3);
    expect(vifPixel(a, a, w, h)).toBeCloseTo(1, 6);
    const blurred = grey(w, h, (x, y) => (a[y * w + x] + a[y * w + Math.min(x + 1, w - 1)]) / 2);
    expect(vifPixel(a, blurred, w, h)).toBeLessThan(0.9);
  });

  it('SSIM of an image with itself is exactly 1; of a flat shifted copy is (2ab+C1)/(a²+b²+C1)', () => {
    const a = noise(20 * 20, 4);
    expect(structuralSimilarity(a, a, 20, 20)).toBe(1);
    const flatA = new Float64Array(100).fill(100);
    const flatB = new Float64Array(100).fill(50);
    const C1 = 0.0004; // (0.01 · data range 2)²; variances are 0, so the contrast term is C2/C2
    expect(structuralSimilarity(flatA, flatB, 10, 10)).toBeCloseTo((2 * 100 * 50 + C1) / (100 ** 2 + 50 ** 2 + C1), 6);
  });

  it('Qabf of identical images is Γg·Γα/(1+e^(κα(1−σα))) where gradients are ≥ 1 (the reference quirk)', () => {
    // Equal gradients make the reference's gradient ratio equal to the magnitude itself
    // (≥ 1 for integer images), so Qg ≈ Γg/(1+e^(-15·0.5)); equal angles give Qα = Γα/(1+e^(-4.4)).
    const a = noise(32 * 32, 5);
    const expected = (0.9994 / (1 + Math.exp(-7.5))) * (0.9879 / (1 + Math.exp(-22 * 0.2)));
    const q = qabf(a, a, a, 32, 32);
    expect(q).toBeGreaterThan(expected - 1e-6);
    expect(q).toBeLessThan((0.9994 * 0.9879) / (1 + Math.exp(-4.4)) + 1e-9);
  });

  it('rejects arrays that do not match the size', () => {
    const a = new Float64Array(12);
    expect(() => fusionMetrics(a, a, new Float64Array(11), 4, 3)).toThrow(/expected 4x3/);
  });
});
