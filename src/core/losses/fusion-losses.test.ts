import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import {
  bdlFusionLoss, discriminatorLoss, fixedConv, generatorAdversarialLoss, gradientLoss, intensityLoss, irSaliency,
  saliencyTarget, sobel, ssim, ssimLoss, ssimMap,
} from './fusion-losses';
import {
  expectBackendsAgree, expectGradMatchesFD, expectNoLeak, input, uniform, type Input,
} from './grad-check.test-helper';
import { useBackend } from '../testing';

const t4 = (x: tf.Tensor) => x as tf.Tensor4D;

/** Plain-JS Sobel (correlation, zero padding) of one H×W plane. */
function refSobel(img: Float32Array, h: number, w: number): { gx: Float64Array; gy: Float64Array } {
  const at = (y: number, x: number) => (y < 0 || y >= h || x < 0 || x >= w ? 0 : img[y * w + x]);
  const gx = new Float64Array(h * w), gy = new Float64Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      gx[y * w + x] = at(y - 1, x + 1) + 2 * at(y, x + 1) + at(y + 1, x + 1) - at(y - 1, x - 1) - 2 * at(y, x - 1) - at(y + 1, x - 1);
      gy[y * w + x] = at(y + 1, x - 1) + 2 * at(y + 1, x) + at(y + 1, x + 1) - at(y - 1, x - 1) - 2 * at(y - 1, x) - at(y - 1, x + 1);
    }
  }
  return { gx, gy };
}

/** Plain-JS SSIM mean with a Gaussian window (σ 1.5), 'valid', one H×W plane. */
function refSsim(a: Float32Array, b: Float32Array, h: number, w: number, size: number): number {
  const c = (size - 1) / 2;
  const g: number[] = [];
  for (let i = 0; i < size; i++) g.push(Math.exp(-((i - c) ** 2) / (2 * 1.5 * 1.5)));
  const s = g.reduce((p, q) => p + q, 0);
  const win = g.map((v) => v / s);
  const C1 = 0.01 ** 2, C2 = 0.03 ** 2;
  let total = 0, count = 0;
  for (let y = 0; y + size <= h; y++) {
    for (let x = 0; x + size <= w; x++) {
      let ma = 0, mb = 0, aa = 0, bb = 0, ab = 0;
      for (let i = 0; i < size; i++) {
        for (let j = 0; j < size; j++) {
          const wt = win[i] * win[j];
          const va = a[(y + i) * w + x + j], vb = b[(y + i) * w + x + j];
          ma += wt * va; mb += wt * vb; aa += wt * va * va; bb += wt * vb * vb; ab += wt * va * vb;
        }
      }
      const sa = aa - ma * ma, sb = bb - mb * mb, sab = ab - ma * mb;
      total += ((2 * ma * mb + C1) * (2 * sab + C2)) / ((ma * ma + mb * mb + C1) * (sa + sb + C2));
      count++;
    }
  }
  return total / count;
}

async function read(x: tf.Tensor): Promise<Float32Array> {
  const d = (await x.data()) as Float32Array;
  x.dispose();
  return d;
}

describe('fusion losses: values (CPU)', () => {
  beforeAll(async () => { await useBackend('cpu'); });

  it('SSIM of identical images is 1 and its loss 0 (Gaussian and uniform windows)', async () => {
    const a = tf.tensor4d(uniform(2 * 16 * 16, 1), [2, 16, 16, 1]);
    expect((await read(ssim(a, a)))[0]).toBeCloseTo(1, 5);
    expect((await read(ssimLoss(a, a, { window: 'uniform', size: 7 })))[0]).toBeCloseTo(0, 5);
    a.dispose();
  });

  it('SSIM matches a plain-JS reference on random images', async () => {
    const h = 17, w = 19;
    const da = uniform(h * w, 2), db = uniform(h * w, 3).map((v, i) => 0.5 * v + 0.5 * da[i]);
    const a = tf.tensor4d(da, [1, h, w, 1]), b = tf.tensor4d(db, [1, h, w, 1]);
    const m = ssimMap(a, b);
    expect(m.shape).toEqual([1, h - 10, w - 10, 1]);
    m.dispose();
    expect((await read(ssim(a, b)))[0]).toBeCloseTo(refSsim(da, db, h, w, 11), 5);
    tf.dispose([a, b]);
  });

  it('fixedConv: value and input gradient equal tf.conv2d\'s native ones (same and valid, multi-channel)', async () => {
    type Shape = [number, number, number, number];
    const cases: [Shape, 'same' | 'valid'][] = [[[3, 3, 1, 2], 'same'], [[5, 3, 2, 3], 'valid'], [[3, 5, 2, 3], 'same']];
    for (const [shape, padding] of cases) {
      const k = uniform(shape.reduce((p, q) => p * q, 1), 61, -1, 1);
      const cin = shape[2];
      const x = tf.tensor4d(uniform(2 * 9 * 8 * cin, 62), [2, 9, 8, cin]);
      const kt = tf.tensor4d(k, shape);
      const weightOut = (y: tf.Tensor) => tf.sum(tf.mul(y, tf.tensor(uniform(y.size, 63), y.shape)));
      const ours = tf.grad((a) => weightOut(fixedConv(a as tf.Tensor4D, k, shape, padding)))(x);
      const native = tf.grad((a) => weightOut(tf.conv2d(a as tf.Tensor4D, kt, 1, padding)))(x);
      const [go, gn] = [await read(ours), await read(native)];
      for (let i = 0; i < go.length; i++) expect(go[i]).toBeCloseTo(gn[i], 4);
      const [vo, vn] = [await read(fixedConv(x, k, shape, padding)), await read(tf.conv2d(x, kt, 1, padding))];
      for (let i = 0; i < vo.length; i++) expect(vo[i]).toBeCloseTo(vn[i], 5);
      tf.dispose([x, kt]);
    }
  });

  it('Sobel gives 8 per unit slope inside a ramp and matches a zero-padded reference', async () => {
    const h = 5, w = 6;
    const ramp = new Float32Array(h * w).map((_, i) => 0.1 * (i % w)); // rises to the right
    const x = tf.tensor4d(ramp, [1, h, w, 1]);
    const { gx, gy } = sobel(x);
    const dx = await read(gx), dy = await read(gy);
    expect(dx[2 * w + 2]).toBeCloseTo(0.8, 5);
    expect(dy[2 * w + 2]).toBeCloseTo(0, 5);
    const ref = refSobel(ramp, h, w);
    for (let i = 0; i < h * w; i++) {
      expect(dx[i]).toBeCloseTo(ref.gx[i], 5);
      expect(dy[i]).toBeCloseTo(ref.gy[i], 5);
    }
    // Rising downward gives a positive Sy.
    const down = tf.tensor4d(new Float32Array(h * w).map((_, i) => 0.1 * Math.floor(i / w)), [1, h, w, 1]);
    const s2 = sobel(down);
    expect((await read(s2.gy))[2 * w + 2]).toBeCloseTo(0.8, 5);
    s2.gx.dispose();
    tf.dispose([x, down]);
  });

  it('gradient loss: zero when F reproduces the only textured source; matches a reference', async () => {
    const h = 8, w = 9;
    const ir = uniform(h * w, 4), vi = uniform(h * w, 5), f = uniform(h * w, 6);
    const T = (d: Float32Array) => tf.tensor4d(d, [1, h, w, 1]);
    const [tir, tvi, tf_, zero] = [T(ir), T(vi), T(f), T(new Float32Array(h * w))];
    // A black VI has no Sobel response at all, so the target is IR's own response.
    expect((await read(gradientLoss(tir, tir, zero)))[0]).toBeCloseTo(0, 6);
    const R = { ir: refSobel(ir, h, w), vi: refSobel(vi, h, w), f: refSobel(f, h, w) };
    let lx = 0, ly = 0, la = 0;
    for (let i = 0; i < h * w; i++) {
      const tx = Math.abs(R.ir.gx[i]) >= Math.abs(R.vi.gx[i]) ? R.ir.gx[i] : R.vi.gx[i];
      const ty = Math.abs(R.ir.gy[i]) >= Math.abs(R.vi.gy[i]) ? R.ir.gy[i] : R.vi.gy[i];
      lx += Math.abs(R.f.gx[i] - tx); ly += Math.abs(R.f.gy[i] - ty);
      const mag = (r: { gx: Float64Array; gy: Float64Array }) => Math.abs(r.gx[i]) + Math.abs(r.gy[i]);
      la += Math.abs(mag(R.f) - Math.max(mag(R.ir), mag(R.vi)));
    }
    const n = h * w;
    expect((await read(gradientLoss(tf_, tir, tvi)))[0]).toBeCloseTo(lx / n + ly / n, 4);
    expect((await read(gradientLoss(tf_, tir, tvi, 'abs-max')))[0]).toBeCloseTo(la / n, 4);
    tf.dispose([tir, tvi, tf_, zero]);
  });

  it('intensity loss modes give hand-checked values', async () => {
    const s: [number, number, number, number] = [1, 2, 2, 1];
    const ir = tf.tensor4d([1, 0.2, 0.6, 0], s), vi = tf.tensor4d([0, 0.4, 0.2, 1], s);
    const f = tf.tensor4d([0.5, 0.5, 0.5, 0.5], s);
    // max = [1, .4, .6, 1] → |F − max| = [.5, .1, .1, .5] → 0.3
    expect((await read(intensityLoss(f, ir, vi, 'max')))[0]).toBeCloseTo(0.3, 6);
    // mean = [.5, .3, .4, .5] → [0, .2, .1, 0] → 0.075
    expect((await read(intensityLoss(f, ir, vi, 'mean')))[0]).toBeCloseTo(0.075, 6);
    const wts = tf.tensor4d([0.5, 0.5, 1, 0, 0, 1, 0.25, 0.75], [1, 2, 2, 2]);
    // w_ir·(IR−F) = [.25, −.3, 0, −.125]; w_vi·(VI−F) = [−.25, 0, −.3, .375]
    const expected = (0.0625 + 0.09 + 0.015625) / 4 + (0.0625 + 0.09 + 0.140625) / 4;
    expect((await read(intensityLoss(f, ir, vi, 'weighted', { weights: wts })))[0]).toBeCloseTo(expected, 6);
    const m = tf.tensor4d([1, 0, 0.5, 0], s);
    // target = [1, .4, .4, 1] → [.5, .1, .1, .5] → 0.3
    expect((await read(intensityLoss(f, ir, vi, 'saliency', { saliency: m })))[0]).toBeCloseTo(0.3, 6);
    expect(() => intensityLoss(f, ir, vi, 'weighted')).toThrow(/weights/);
    tf.dispose([ir, vi, f, wts, m]);
  });

  it('IR saliency (LC histogram contrast) gives hand-checked values', async () => {
    // Levels 0, 128, 255, 255 (0.5 rounds to 128): S = [638, 382, 382, ·]/255 → min-max [1, 0, 0, 0].
    const a = tf.tensor4d([0, 0.5, 1, 1], [1, 2, 2, 1]);
    const sa = await read(irSaliency(a));
    [1, 0, 0, 0].forEach((v, i) => expect(sa[i]).toBeCloseTo(v, 5));
    // One hot pixel on a cold background is the salient one; a constant image gives zeros.
    const b = tf.tensor4d([0.1, 0.1, 0.1, 0.9, 0.5, 0.5, 0.5, 0.5], [2, 2, 2, 1]);
    const sb = await read(irSaliency(b));
    [0, 0, 0, 1, 0, 0, 0, 0].forEach((v, i) => expect(sb[i]).toBeCloseTo(v, 5));
    tf.dispose([a, b]);
  });

  it('BDLFusion loss is 0 when F equals the saliency target', async () => {
    const s: [number, number, number, number] = [2, 16, 16, 1];
    const ir = tf.tensor4d(uniform(512, 8), s), vi = tf.tensor4d(uniform(512, 9), s);
    const target = saliencyTarget(ir, vi);
    expect((await read(bdlFusionLoss(target, ir, vi)))[0]).toBeCloseTo(0, 5);
    expect((await read(bdlFusionLoss(vi, ir, vi)))[0]).toBeGreaterThan(0.01);
    tf.dispose([ir, vi, target]);
  });

  it('adversarial losses: hand values and finite for huge logits', async () => {
    const one = tf.ones([2, 3, 3, 1]), zero = tf.zeros([2, 3, 3, 1]);
    expect((await read(generatorAdversarialLoss(one)))[0]).toBeCloseTo(0, 6);
    expect((await read(discriminatorLoss(one, zero)))[0]).toBeCloseTo(0, 6);
    expect((await read(discriminatorLoss(zero, one)))[0]).toBeCloseTo(1, 6);
    expect((await read(generatorAdversarialLoss(zero, 'bce')))[0]).toBeCloseTo(Math.LN2, 6);
    expect((await read(discriminatorLoss(zero, zero, 'bce')))[0]).toBeCloseTo(2 * Math.LN2, 6);
    const big = tf.tensor1d([1000, -1000]);
    for (const backend of ['cpu', 'wasm'] as const) {
      await useBackend(backend);
      const b2 = tf.tensor1d([1000, -1000]);
      const g = (await read(generatorAdversarialLoss(b2, 'bce')))[0];
      const d = (await read(discriminatorLoss(b2, b2, 'bce')))[0];
      expect(g).toBeCloseTo(500, 3); // (0 + 1000) / 2
      expect(d).toBeCloseTo(1000, 3); // (0 + 1000)/2 + (1000 + 0)/2
      b2.dispose();
    }
    await useBackend('cpu');
    tf.dispose([one, zero, big]);
  });

  it('frees every intermediate', () => {
    const s: [number, number, number, number] = [1, 12, 12, 1];
    const [f, ir, vi] = [10, 11, 12].map((k) => tf.tensor4d(uniform(144, k), s));
    const wts = tf.tensor4d(uniform(288, 13), [1, 12, 12, 2]);
    for (const mode of ['max', 'mean', 'saliency', 'weighted'] as const) {
      expectNoLeak(() => intensityLoss(f, ir, vi, mode, { weights: wts }));
    }
    expectNoLeak(() => sobel(f));
    expectNoLeak(() => gradientLoss(f, ir, vi));
    expectNoLeak(() => gradientLoss(f, ir, vi, 'abs-max'));
    expectNoLeak(() => ssimMap(f, ir));
    expectNoLeak(() => bdlFusionLoss(f, ir, vi));
    expectNoLeak(() => [generatorAdversarialLoss(f, 'bce'), discriminatorLoss(f, ir)]);
    tf.dispose([f, ir, vi, wts]);
  });
});

describe('fusion losses: gradients (finite differences, WASM vs CPU)', () => {
  const B = 2, H = 9, W = 9, N = B * H * W;
  const img = (seed: number): Input => input(uniform(N, seed, 0.05, 0.95), [B, H, W, 1]);
  const F = img(21), IR = img(22), VI = img(23);
  const WTS = input(uniform(2 * N, 24), [B, H, W, 2]);
  const D = input(uniform(18, 25, -2, 2), [2, 3, 3, 1]);
  const D2 = input(uniform(18, 26, -2, 2), [2, 3, 3, 1]);

  // eps 1e-4 for the L1-based (piecewise linear) losses, so perturbations rarely cross a kink.
  const cases: { name: string; f: (...x: tf.Tensor[]) => tf.Scalar; inputs: Input[]; wrt: number[]; eps?: number }[] = [
    { name: 'intensity max', f: (a, b, c) => intensityLoss(t4(a), t4(b), t4(c), 'max'), inputs: [F, IR, VI], wrt: [0], eps: 1e-4 },
    { name: 'intensity mean', f: (a, b, c) => intensityLoss(t4(a), t4(b), t4(c), 'mean'), inputs: [F, IR, VI], wrt: [0], eps: 1e-4 },
    { name: 'intensity saliency', f: (a, b, c) => intensityLoss(t4(a), t4(b), t4(c), 'saliency'), inputs: [F, IR, VI], wrt: [0], eps: 1e-4 },
    {
      name: 'intensity weighted (F and weights)',
      f: (a, b, c, w) => intensityLoss(t4(a), t4(b), t4(c), 'weighted', { weights: t4(w) }),
      inputs: [F, IR, VI, WTS], wrt: [0, 3],
    },
    { name: 'gradient sobel-max', f: (a, b, c) => gradientLoss(t4(a), t4(b), t4(c)), inputs: [F, IR, VI], wrt: [0], eps: 1e-4 },
    { name: 'gradient abs-max', f: (a, b, c) => gradientLoss(t4(a), t4(b), t4(c), 'abs-max'), inputs: [F, IR, VI], wrt: [0], eps: 1e-4 },
    { name: 'ssim loss gaussian 5 (both)', f: (a, b) => ssimLoss(t4(a), t4(b), { size: 5 }), inputs: [F, IR], wrt: [0, 1] },
    { name: 'ssim loss uniform 7', f: (a, b) => ssimLoss(t4(a), t4(b), { window: 'uniform', size: 7 }), inputs: [F, IR], wrt: [0] },
    { name: 'bdl fusion loss (window 5)', f: (a, b, c) => bdlFusionLoss(t4(a), t4(b), t4(c), { ssim: { size: 5 } }), inputs: [F, IR, VI], wrt: [0], eps: 1e-4 },
    { name: 'adversarial G lsgan', f: (d) => generatorAdversarialLoss(d), inputs: [D], wrt: [0] },
    { name: 'adversarial G bce', f: (d) => generatorAdversarialLoss(d, 'bce'), inputs: [D], wrt: [0] },
    { name: 'adversarial D lsgan', f: (r, d) => discriminatorLoss(r, d), inputs: [D, D2], wrt: [0, 1] },
    { name: 'adversarial D bce', f: (r, d) => discriminatorLoss(r, d, 'bce'), inputs: [D, D2], wrt: [0, 1] },
  ];

  for (const c of cases) {
    it(`${c.name}: gradient matches finite differences`, async () => {
      await expectGradMatchesFD(c.f, c.inputs, c.wrt, { eps: c.eps });
    });
    it(`${c.name}: WASM and CPU agree on loss and gradient`, async () => {
      await expectBackendsAgree(c.f, c.inputs, c.wrt);
    });
  }

  it('default SSIM window (11) and BDLFusion loss agree across backends on 16×16', async () => {
    const s = [1, 16, 16, 1];
    const a = input(uniform(256, 31), s), b = input(uniform(256, 32), s), c = input(uniform(256, 33), s);
    await expectBackendsAgree((x, y, z) => bdlFusionLoss(t4(x), t4(y), t4(z)), [a, b, c], [0]);
  });
});
