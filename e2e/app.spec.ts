/**
 * The app opens ready: the backend and its reason are shown, the bundled samples are fused
 * and drawn (canvas pixels not blank), with no long main-thread task while fusing on WASM.
 */
import { expect, test } from '@playwright/test';
import {
  appState, canvasStats, keepScreenshot, logBrowserErrors, longTasks, openApp, recordLongTasks,
  SAMPLE_NAMES, selectPair, UNTRACED, waitForFused, waitForReady,
} from './helpers';

/** Longest main-thread task allowed while fusing. */
const MAX_LONG_TASK_MS = 200;

// The long-task probe times the app, not Playwright's trace (see UNTRACED).
test.use(UNTRACED);

test('opens with the samples fused on WASM', async ({ page }, testInfo) => {
  const errors = logBrowserErrors(page);
  await recordLongTasks(page);
  await openApp(page, 'wasm');

  // The loading bar covers download and warm-up, then the backend is shown with its reason.
  const backend = await waitForReady(page);
  expect(backend).toBe('wasm');
  await expect(page.getByTestId('backend-badge')).toContainText('WASM');
  await expect(page.getByTestId('backend-reason')).toContainText('WASM');
  // WASM runs one XNNPACK thread per core but one (the page keeps a core), and says so.
  const threads = Math.max(1, (await page.evaluate(() => navigator.hardwareConcurrency)) - 1);
  await expect(page.getByTestId('backend-reason')).toContainText(`${threads} thread${threads === 1 ? '' : 's'}`);

  // All bundled samples fuse without any action.
  await expect(page.getByTestId('pair-row')).toHaveCount(SAMPLE_NAMES.length);
  await waitForFused(page, SAMPLE_NAMES.length);

  const timings = await appState<{ firstOverlayMs?: number; pairs: { name: string; ms?: number; size?: unknown }[] }>(page,
    '{ firstOverlayMs: s.worker.firstOverlayMs, pairs: s.order.map((id) => { const r = s.results["pretrained|" + id]; return { name: s.pairs[id].name, ms: r.timings && r.timings.pipeline, size: r.size }; }) }');
  testInfo.annotations.push({ type: 'timings', description: JSON.stringify(timings) });
  expect(timings.firstOverlayMs).toBeGreaterThan(0);

  // The overlay shows the segmenter's prediction by default; the label only without S.
  const seg = await appState<{ source: string; segdet: boolean }>(page,
    "{ source: s.settings.segSource, segdet: s.worker.models.some((m) => m.name === 'segdet' && m.loaded) }");
  expect(seg.source).toBe(seg.segdet ? 'pred' : 'label');
  let classPixels = 0;

  for (const name of SAMPLE_NAMES) {
    await selectPair(page, name);
    const st = await canvasStats(page, 'fused-canvas');
    expect(st.width).toBe(640);
    expect(st.height).toBe(480);
    // Not blank: real image content with spread, not a flat fill.
    expect(st.std).toBeGreaterThan(10);
    expect(st.nonBlack).toBeGreaterThan(0.5);
    const overlay = await canvasStats(page, 'seg-canvas');
    expect([overlay.width, overlay.height]).toEqual([640, 480]);
    classPixels += overlay.nonBlack;
    await keepScreenshot(page, testInfo, `sample-${name}`);
  }
  // Some sample shows classes (unlabelled pixels are transparent black).
  expect(classPixels).toBeGreaterThan(0);

  // Start-up (parsing, first render) is not "while fusing": count from the worker-ready mark.
  testInfo.annotations.push({ type: 'long tasks (all)', description: JSON.stringify(await longTasks(page)) });
  const tasks = await longTasks(page, 'worker-ready');
  testInfo.annotations.push({ type: 'long tasks while fusing', description: JSON.stringify(tasks) });
  const worst = Math.max(0, ...tasks.map((t) => t.duration));
  expect(worst, `longest main-thread task ${worst.toFixed(0)} ms`).toBeLessThanOrEqual(MAX_LONG_TASK_MS);
  expect(errors, errors.join('\n')).toEqual([]);
});

test('auto ranks a software WebGPU adapter below WASM and says why', async ({ page }, testInfo) => {
  await openApp(page, 'auto');
  const backend = await waitForReady(page);
  const reason = (await page.getByTestId('backend-reason').textContent()) ?? '';
  testInfo.annotations.push({ type: 'backend', description: `${backend}: ${reason}` });
  if (backend === 'webgpu') {
    // A hardware adapter is present on this machine: WebGPU is the right choice.
    expect(reason).toMatch(/WebGPU/);
  } else {
    expect(backend).toBe('wasm');
    expect(reason).toMatch(/software|no WebGPU|navigator\.gpu|adapter/i);
  }
  await keepScreenshot(page, testInfo, 'auto-backend');
});

test('the page may not reach another origin: the Content-Security-Policy blocks it', async ({ page }) => {
  const response = await page.goto('./?backend=wasm');
  expect(response?.headers()['content-security-policy']).toContain("connect-src 'self'");
  await waitForReady(page);
  const outcome = await page.evaluate(async () => {
    const violations: string[] = [];
    document.addEventListener('securitypolicyviolation', (e) => violations.push(`${e.effectiveDirective} ${e.blockedURI}`));
    const fetched = await fetch('https://example.com/collect').then(() => 'sent', (e: Error) => `failed: ${e.message}`);
    const img = document.createElement('img');
    img.src = 'https://example.com/pixel.png';
    document.body.appendChild(img);
    await new Promise((r) => setTimeout(r, 300));
    img.remove();
    return { fetched, violations };
  });
  expect(outcome.fetched).toMatch(/^failed/);
  // The policy, not a missing network, stopped both: each is reported as a violation.
  expect(outcome.violations).toContain('connect-src https://example.com/collect');
  expect(outcome.violations).toContain('img-src https://example.com/pixel.png');
});

test('detection labels of a crowded pair never overlap', async ({ page }, testInfo) => {
  await openApp(page, 'wasm');
  await waitForReady(page);
  await waitForFused(page, SAMPLE_NAMES.length);
  // The crowded pair: the sample with the most detections above the slider's lowest threshold.
  const counts = await appState<{ name: string; n: number }[]>(page,
    's.order.map((id) => ({ name: s.pairs[id].name, n: s.results["pretrained|" + id].detections.filter((d) => d[5] >= 0.05).length }))');
  const crowded = counts.reduce((a, b) => (b.n > a.n ? b : a));
  expect(crowded.n).toBeGreaterThanOrEqual(8);
  await selectPair(page, crowded.name);
  await page.getByLabel('Detection threshold').fill('0.05');
  const layer = page.getByTestId('box-layer');
  await expect(layer).toHaveAttribute('data-boxes', String(crowded.n));

  const { labels, elided, width, height } = await layer.evaluate((c: HTMLCanvasElement) => ({
    labels: JSON.parse(c.dataset.labels ?? '[]') as [number, number, number, number][],
    elided: Number(c.dataset.elided), width: c.width, height: c.height,
  }));
  testInfo.annotations.push({ type: 'labels', description: `${crowded.name}: ${crowded.n} boxes, ${labels.length} labels, ${elided} left out` });
  await keepScreenshot(page, testInfo, 'crowded-labels');
  // Every box has its label drawn or counted as left out; most are drawn.
  expect(labels.length + elided).toBe(crowded.n);
  expect(labels.length).toBeGreaterThanOrEqual(Math.min(crowded.n, 6));
  for (let i = 0; i < labels.length; i++) {
    const [x, y, w, h] = labels[i];
    expect(x >= 0 && y >= 0 && x + w <= width && y + h <= height, `label ${i} inside the image`).toBe(true);
    for (let j = i + 1; j < labels.length; j++) {
      const [x2, y2, w2, h2] = labels[j];
      const overlap = x < x2 + w2 && x2 < x + w && y < y2 + h2 && y2 < y + h;
      expect(overlap, `labels ${i} and ${j} overlap: ${JSON.stringify([labels[i], labels[j]])}`).toBe(false);
    }
  }
});
