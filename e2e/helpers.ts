/**
 * Shared helpers for the browser specs: open the app on a backend, wait for the worker and
 * for pairs, read canvas pixels, import files, collect long tasks, keep screenshots.
 */
import { expect, type Page, type TestInfo } from '@playwright/test';

export type Backend = 'auto' | 'wasm' | 'webgpu' | 'webgl' | 'cpu';

/** The bundled samples (public/samples/index.json). */
export const SAMPLE_NAMES = ['00233D', '00412D', '00726N', '01302N'];

/**
 * Test options for a spec that times the main thread: Playwright's trace snapshots the whole
 * DOM at every action, on the page's main thread (50–100 ms with 200 rows, seen in a Chromium
 * trace and in a CPU profile as its `captureSnapshot`; more on a slow machine), so with a trace
 * the long-task probe times the harness, not the app. `test.use(UNTRACED)` where `longTasks` is
 * asserted.
 */
export const UNTRACED = { trace: 'off' } as const;

/**
 * Records main-thread long tasks from the first script on (PerformanceObserver 'longtask').
 * Call before `openApp`.
 */
export async function recordLongTasks(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __longTasks: { start: number; duration: number }[] };
    w.__longTasks = [];
    try {
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.__longTasks.push({ start: e.startTime, duration: e.duration });
      }).observe({ type: 'longtask', buffered: true });
    } catch { /* not supported */ }
  });
}

/**
 * Long tasks seen so far (ms since navigation start). With `sinceMark`, only those that end
 * after that performance mark (e.g. 'worker-ready': the app marks it when the worker is ready
 * and fusing starts), so page start-up is not counted.
 */
export async function longTasks(page: Page, sinceMark?: string): Promise<{ start: number; duration: number }[]> {
  return page.evaluate((mark) => {
    const all = (window as unknown as { __longTasks?: { start: number; duration: number }[] }).__longTasks ?? [];
    if (!mark) return all;
    const m = performance.getEntriesByName(mark)[0];
    return m ? all.filter((t) => t.start + t.duration > m.startTime) : all;
  }, sinceMark);
}

/** Forwards browser console errors and page errors to the test output. */
export function logBrowserErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return errors;
}

/** Opens the app, forcing a backend with the `?backend=` query flag. */
export async function openApp(page: Page, backend: Backend = 'wasm'): Promise<void> {
  await page.goto(backend === 'auto' ? './' : `./?backend=${backend}`);
}

/** Opens a tab of the fine-tuning area (Fine-tune, Runs & compare) unless it is open. */
export async function openTab(page: Page, name: RegExp): Promise<void> {
  const tab = page.getByRole('tab', { name });
  if ((await tab.getAttribute('aria-selected')) !== 'true') await tab.click();
  await expect(tab).toHaveAttribute('aria-selected', 'true');
}

/** Waits until the worker reports ready (backend badge set, loading bar gone). */
export async function waitForReady(page: Page, timeout = 120_000): Promise<string> {
  const badge = page.getByTestId('backend-badge');
  await expect(badge).not.toHaveAttribute('data-backend', '', { timeout });
  await expect(page.getByTestId('loading-bar')).toHaveCount(0, { timeout });
  return (await badge.getAttribute('data-backend')) ?? '';
}

/** Waits until `n` pairs (or all listed) are fused. */
export async function waitForFused(page: Page, n: number, timeout = 120_000): Promise<void> {
  // The count the list shows: a long list mounts only the rows near the view.
  await expect(page.getByTestId('pair-count')).toHaveAttribute('data-done', String(n), { timeout });
}

/** A pair row by its name (and origin: bundled `sample` or imported `user`). */
export function pairRow(page: Page, name: string, origin?: 'sample' | 'user') {
  return page.locator(`[data-testid=pair-row][data-pair="${name}"]${origin ? `[data-origin=${origin}]` : ''}`);
}

/** Selects a pair by name and waits until the viewer shows it. */
export async function selectPair(page: Page, name: string, origin?: 'sample' | 'user'): Promise<void> {
  await pairRow(page, name, origin).click();
  await expect(pairRow(page, name, origin)).toHaveAttribute('aria-selected', 'true');
  await expect(page.locator('.viewer-status .pair-title')).toHaveText(name);
}

/** Simple statistics of a canvas's RGB values. */
export interface CanvasStats {
  width: number;
  height: number;
  mean: number;
  std: number;
  /** Fraction of pixels with any channel > 8. */
  nonBlack: number;
}

/** Reads a canvas by test id and summarises its pixels. */
export async function canvasStats(page: Page, testId: string): Promise<CanvasStats> {
  return page.getByTestId(testId).first().evaluate((el) => {
    const c = el as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let s = 0, s2 = 0, nb = 0;
    const n = c.width * c.height;
    for (let i = 0; i < d.length; i += 4) {
      const v = (d[i] + d[i + 1] + d[i + 2]) / 3;
      s += v;
      s2 += v * v;
      if (d[i] > 8 || d[i + 1] > 8 || d[i + 2] > 8) nb++;
    }
    const mean = s / n;
    return { width: c.width, height: c.height, mean, std: Math.sqrt(Math.max(0, s2 / n - mean * mean)), nonBlack: nb / n };
  });
}

/** The RGBA pixels of a canvas (for exact comparisons against the CLI). */
export async function canvasPixels(page: Page, testId: string): Promise<{ width: number; height: number; rgba: Uint8Array }> {
  const r = await page.getByTestId(testId).first().evaluate((el) => {
    const c = el as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let bin = '';
    for (let i = 0; i < d.length; i += 0x8000) bin += String.fromCharCode(...d.subarray(i, i + 0x8000));
    return { width: c.width, height: c.height, b64: btoa(bin) };
  });
  return { width: r.width, height: r.height, rgba: new Uint8Array(Buffer.from(r.b64, 'base64')) };
}

/** Imports files through the file picker (flat list). */
export async function pickFiles(page: Page, paths: string[]): Promise<void> {
  await page.getByTestId('file-input').setInputFiles(paths);
}

/** Imports a whole folder through the folder picker (`webkitdirectory`). */
export async function pickFolder(page: Page, dir: string): Promise<void> {
  await page.getByTestId('folder-input').setInputFiles(dir);
}

/**
 * Drops in-memory files on the drop zone (a synthetic drop: flat files, no folder entries).
 * @param files name (may contain `/`, kept only as the file name) and bytes.
 */
export async function dropFiles(page: Page, files: { name: string; bytes: Buffer; type?: string }[]): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, b64: f.bytes.toString('base64'), type: f.type ?? 'image/png' }));
  const dt = await page.evaluateHandle((items) => {
    const t = new DataTransfer();
    for (const it of items) {
      const bin = atob(it.b64);
      const u = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i);
      t.items.add(new File([u], it.name, { type: it.type }));
    }
    return t;
  }, payload);
  await page.getByTestId('dropzone').dispatchEvent('drop', { dataTransfer: dt });
}

/** Saves a full-page screenshot as a test artifact (kept in test-results/ and the report). */
export async function keepScreenshot(page: Page, testInfo: TestInfo, name: string): Promise<string> {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: false });
  await testInfo.attach(name, { path, contentType: 'image/png' });
  return path;
}

/** App state snapshot through the debug handle (plain data only). */
export async function appState<T>(page: Page, pick: string): Promise<T> {
  return page.evaluate((expr) => {
    const fp = (window as unknown as { __fusionPlayground: { store: { getState(): unknown } } }).__fusionPlayground;
    // eslint-disable-next-line no-new-func
    return new Function('s', `return (${expr});`)(fp.store.getState()) as unknown;
  }, pick) as Promise<T>;
}
