/**
 * WebGPU and WASM give the same fused image, and the page says which backend
 * runs and why.
 *
 * Here WebGPU is SwiftShader (a software adapter, 100–700× slower than WASM), so the app is
 * fed one SMALL pair instead of the bundled 640×480 samples: `samples/index.json` is stubbed
 * with a 96×96 crop of sample 00233D (people and a car) made at test time. The crop's images
 * are given as `data:` URLs, which the app resolves against `samples/` unchanged and the worker
 * fetches itself (no routing of worker requests needed). WebGPU is picked explicitly with
 * `?backend=webgpu`: `auto` ranks a software adapter below WASM (app.spec.ts checks that).
 *
 * Tolerance, fused colour image WebGPU vs WASM: every channel within 2 levels (of 255) and at
 * least 99 % of pixels identical. The graph is the same, but WebGPU's shaders compute convs
 * with other summation orders (and its own exp/sigmoid) than XNNPACK on WASM, so fused Y
 * differs by ~1e-6; after 8-bit quantisation that flips a rounding on a few pixels (1 level),
 * and the colour merge (Y + Cb/Cr, each rounded) can stack two such flips on one channel.
 * Measured here (SwiftShader vs WASM, 96×96): identical, max |Δ| 0; the margin is for real GPUs,
 * whose float maths (fused multiply-add, fast exp) differs more than SwiftShader's.
 */
import { expect, test, type Page } from '@playwright/test';
import { join } from 'node:path';
import { SAMPLES, cropPng } from './fixtures';
import { canvasPixels, keepScreenshot, logBrowserErrors, openApp, waitForFused, waitForReady, type Backend } from './helpers';
import { describeDiff, diffRgba, type Rgba } from './pixels';

/** Largest per-channel difference allowed, in 8-bit levels (see the file comment). */
const MAX_ABS_DIFF = 2;
/** Smallest fraction of pixels identical in R, G and B. */
const MIN_IDENTICAL = 0.99;
/** Smallest fraction of pixels with the same segmentation class (argmax ties may flip). */
const MIN_SEG_AGREEMENT = 0.99;

/** The small pair: a crop of a bundled sample. */
const CROP = { sample: '00233D', x: 310, y: 220, size: 96 };
const PAIR_NAME = `${CROP.sample}-crop${CROP.size}`;


const dataUrl = (png: Buffer) => `data:image/png;base64,${png.toString('base64')}`;
const SMALL_INDEX = JSON.stringify({
  description: `test stub: a ${CROP.size}x${CROP.size} crop of ${CROP.sample}`,
  pairs: [{
    name: PAIR_NAME,
    ir: dataUrl(cropPng(join(SAMPLES, 'ir', `${CROP.sample}.png`), 1, CROP)),
    vi: dataUrl(cropPng(join(SAMPLES, 'vi', `${CROP.sample}.png`), 3, CROP)),
  }],
});

/** Serves the one-pair index instead of the bundled samples (and no ground-truth boxes). */
async function stubSamples(page: Page): Promise<void> {
  await page.route('**/samples/index.json', (r) => r.fulfill({ contentType: 'application/json', body: SMALL_INDEX }));
  await page.route('**/samples/detection.json', (r) => r.fulfill({ contentType: 'application/json', body: '{"images":[]}' }));
}

interface SmallRun {
  backend: string;
  badge: string;
  reason: string;
  fused: Rgba;
  seg: Rgba | null;
}

/** Opens the app on `backend` with the small pair, waits for it to fuse and reads the result. */
async function fuseSmall(page: Page, backend: Backend, timeout: number): Promise<SmallRun> {
  await openApp(page, backend);
  const active = await waitForReady(page, timeout);
  const badge = (await page.getByTestId('backend-badge').textContent()) ?? '';
  const reason = (await page.getByTestId('backend-reason').textContent()) ?? '';
  if (active !== backend) return { backend: active, badge, reason, fused: { width: 0, height: 0, rgba: new Uint8Array() }, seg: null };
  await waitForFused(page, 1, timeout);
  const fused = await canvasPixels(page, 'fused-canvas');
  const seg = (await page.getByTestId('seg-canvas').count()) ? await canvasPixels(page, 'seg-canvas') : null;
  return { backend: active, badge, reason, fused, seg };
}

/** Whether this browser gives a WebGPU adapter at all (asked from the page, like the worker). */
async function webgpuAdapter(page: Page): Promise<string | null> {
  return page.evaluate(async () => {
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string } } | null> } }).gpu;
    if (!gpu) return null;
    const a = await gpu.requestAdapter().catch(() => null);
    return a ? `${a.info?.vendor ?? ''} ${a.info?.architecture ?? ''}`.trim() || 'unnamed adapter' : null;
  });
}

test('WebGPU and WASM fuse a small pair to the same image, and the page says which backend and why', async ({ page }, testInfo) => {
  test.setTimeout(600_000);
  const errors = logBrowserErrors(page);
  await stubSamples(page);

  // WASM first: fast, and it proves the stubbed pair works before the slow backend.
  const wasm = await fuseSmall(page, 'wasm', 120_000);
  expect(wasm.backend).toBe('wasm');
  expect(wasm.badge).toContain('WASM');
  expect(wasm.reason).toMatch(/^WASM .*chosen by you/);
  expect([wasm.fused.width, wasm.fused.height]).toEqual([CROP.size, CROP.size]);
  await keepScreenshot(page, testInfo, 'small-pair-wasm');

  const adapter = await webgpuAdapter(page);
  test.skip(adapter === null, 'this browser exposes no WebGPU adapter (navigator.gpu missing or requestAdapter() gave null)');
  testInfo.annotations.push({ type: 'webgpu adapter', description: adapter! });

  const gpu = await fuseSmall(page, 'webgpu', 540_000);
  testInfo.annotations.push({ type: 'backends', description: `wasm: ${wasm.reason} | webgpu: ${gpu.reason}` });
  // An adapter exists, so WebGPU must start when picked; the reason names it.
  expect(gpu.backend, `WebGPU did not start: ${gpu.reason}`).toBe('webgpu');
  expect(gpu.badge).toContain('WebGPU');
  expect(gpu.reason).toMatch(/^WebGPU \(on .+\).*chosen by you/);
  if (/software/i.test(gpu.reason)) expect(gpu.badge).toContain('software');
  await keepScreenshot(page, testInfo, 'small-pair-webgpu');

  const d = diffRgba(gpu.fused, wasm.fused);
  testInfo.annotations.push({ type: 'fused webgpu vs wasm', description: describeDiff(d) });
  expect(d.maxAbs, describeDiff(d)).toBeLessThanOrEqual(MAX_ABS_DIFF);
  expect(d.identical, describeDiff(d)).toBeGreaterThanOrEqual(MIN_IDENTICAL);

  // With a segmenter, the predicted class maps agree too (same colour = same class).
  expect(gpu.seg === null).toBe(wasm.seg === null);
  if (gpu.seg && wasm.seg) {
    const s = diffRgba(gpu.seg, wasm.seg);
    testInfo.annotations.push({ type: 'segmentation webgpu vs wasm', description: describeDiff(s) });
    expect(s.identical, describeDiff(s)).toBeGreaterThanOrEqual(MIN_SEG_AGREEMENT);
  }
  expect(errors, errors.join('\n')).toEqual([]);
});
