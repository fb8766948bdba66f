/**
 * Comparing on a set, at the size the issue names: 4 runs × 20 pairs. The set scores are
 * computed in the background without a main-thread task over 50 ms (the long-task probe), and
 * each pair is fused once per run (every result's version is 1).
 */
import { expect, test } from '@playwright/test';
import { join } from 'node:path';
import { cropPng, SAMPLES } from './fixtures';
import { appState, dropFiles, longTasks, openApp, recordLongTasks, SAMPLE_NAMES, UNTRACED, waitForFused, waitForReady } from './helpers';

// The probe times the app, not Playwright's trace (see UNTRACED).
test.use(UNTRACED);

test('4 runs on 20 pairs: set scores stay off the main thread and fuse each pair once per run', async ({ page }, testInfo) => {
  test.setTimeout(900_000);
  await recordLongTasks(page);
  await openApp(page, 'wasm');
  await waitForReady(page);
  await waitForFused(page, SAMPLE_NAMES.length);
  // Sixteen more pairs: 240×240 windows of the samples (a fifth of the pixels of a sample, to
  // keep CI short; the four full-size samples stay in the set).
  const files = [1, 2, 3, 4].flatMap((k) => SAMPLE_NAMES.flatMap((n) => (['ir', 'vi'] as const)
    .map((m) => ({ name: `${n}c${k}_${m}.png`, bytes: cropPng(join(SAMPLES, m, `${n}.png`), m === 'ir' ? 1 : 3, { x: 80 * k, y: 40 * k, size: 240 }) }))));
  await dropFiles(page, files);
  await waitForFused(page, 20, 300_000);

  // Four one-step runs: a sweep.
  await page.getByRole('tab', { name: /^Fine-tune/ }).click();
  await page.getByLabel('Steps', { exact: true }).fill('1');
  await page.getByLabel('Batch', { exact: true }).fill('1');
  await page.getByLabel('Crop', { exact: true }).fill('64');
  await page.getByLabel('Sweep ratios').fill('1:1, 1:5, 1:10, 1:20');
  await page.getByRole('button', { name: 'Run sweep' }).click();
  await expect(page.getByRole('tab', { name: /^Runs & compare \(4\)/ })).toBeVisible({ timeout: 300_000 });
  await expect(page.getByTestId('train-progress')).toHaveAttribute('data-status', 'idle', { timeout: 60_000 });

  await page.getByRole('tab', { name: /^Runs & compare/ }).click();
  // The selected pair's grid first (its first paint of five stages is not the set's work).
  await expect(page.locator('[data-testid=run-canvas][data-ready=true]')).toHaveCount(5, { timeout: 120_000 });
  await page.waitForTimeout(500);
  // Cancel stops the set: nothing of it stays queued; what was scored is kept.
  await page.getByRole('button', { name: /^Score 5 runs × 20 pairs/ }).click();
  // (The pretrained results of the 20 pairs are scored already.)
  await expect.poll(async () => Number(await page.getByTestId('set-progress').getAttribute('value')), { timeout: 60_000 }).toBeGreaterThan(21);
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('button', { name: /^Score 5 runs × 20 pairs/ })).toBeVisible();
  await expect.poll(() => appState<number>(page, "Object.values(s.results).filter((r) => r.status === 'queued' || r.status === 'fusing').length")).toBe(0);

  await page.evaluate(() => performance.mark('set-start'));
  const t0 = Date.now();
  await page.getByRole('button', { name: /^Score 5 runs × 20 pairs/ }).click();
  try {
    await expect(page.getByTestId('set-table').locator('tbody tr')).toHaveCount(5, { timeout: 600_000 });
  } catch (e) {
    const unscored = await appState<unknown[]>(page, "Object.values(s.results).filter((r) => r.scoresStatus !== 'done')"
      + '.map((r) => ({ run: r.runId, pair: r.pairId, status: r.status, scores: r.scoresStatus, evicted: r.evicted, error: r.error }))');
    throw new Error(`${(e as Error).message}\nnot scored: ${JSON.stringify(unscored)}`);
  }
  const seconds = (Date.now() - t0) / 1000;

  const tasks = await longTasks(page, 'set-start');
  const longest = Math.max(0, ...tasks.map((t) => t.duration));
  const fused = await appState<{ results: number; versions: number[] }>(page,
    '{ results: Object.keys(s.results).length, versions: [...new Set(Object.values(s.results).map((r) => r.version))] }');
  const mark = await page.evaluate(() => performance.getEntriesByName('set-start')[0].startTime);
  testInfo.annotations.push({ type: 'set of 5 runs x 20 pairs', description: `${seconds.toFixed(0)} s; longest main-thread task ${longest.toFixed(0)} ms (${tasks.map((t) => `${((t.start - mark) / 1000).toFixed(1)} s: ${t.duration.toFixed(0)} ms`).join(', ')}); ${fused.results} results, versions ${fused.versions.join(',')}` });
  expect(longest, `long tasks: ${JSON.stringify(tasks)}`).toBeLessThanOrEqual(50);
  expect(fused.results).toBe(5 * 20);
  expect(fused.versions).toEqual([1]);
  // The sweep is one line through its points in the trade-off plot.
  await expect(page.getByTestId('tradeoff-plot')).toHaveAttribute('data-points', /run/);
  expect(JSON.parse((await page.getByTestId('tradeoff-plot').getAttribute('data-points'))!)).toHaveLength(5);
});
