/**
 * Importing a folder: pairs match by stem, good pairs fuse, and the unmatched file, the
 * broken image, the size mismatch and the reduction of a large pair are all reported.
 */
import { expect, test } from '@playwright/test';
import { readFileSync, rmSync } from 'node:fs';
import { checkerPng, flatPng, makeImportFolder } from './fixtures';
import {
  canvasStats, dropFiles, keepScreenshot, logBrowserErrors, openApp, pairRow, pickFolder, SAMPLE_NAMES,
  selectPair, waitForFused, waitForReady,
} from './helpers';

test('a dropped folder fuses its good pairs and reports the bad files', async ({ page }, testInfo) => {
  const errors = logBrowserErrors(page);
  const f = makeImportFolder();
  await openApp(page, 'wasm');
  await waitForReady(page);
  await waitForFused(page, SAMPLE_NAMES.length);

  await pickFolder(page, f.dir);

  // Good pairs fuse; the broken one ends in an error row, not a stuck page.
  for (const name of f.good) await expect(pairRow(page, name, 'user')).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  await expect(pairRow(page, f.broken, 'user')).toHaveAttribute('data-status', 'error', { timeout: 60_000 });

  const report = page.getByTestId('import-report');
  for (const u of f.unmatched) await expect(report.getByTestId('report-unmatched')).toContainText(u);
  await expect(report.getByTestId('report-unreadable')).toContainText(f.broken);
  await expect(report.getByTestId('report-adjusted').locator('[data-code=resized]')).toContainText(f.mismatched);
  await expect(report.getByTestId('report-adjusted').locator('[data-code=downscaled]')).toContainText(f.large);

  // Mismatched sizes: processed at the IR size.
  await selectPair(page, f.mismatched);
  const st = await canvasStats(page, 'fused-canvas');
  expect([st.width, st.height]).toEqual([320, 240]);
  expect(st.std).toBeGreaterThan(10);

  // Above 2048 px: reduced, longest side 2048.
  await selectPair(page, f.large);
  const big = await canvasStats(page, 'fused-canvas');
  expect(Math.max(big.width, big.height)).toBe(2048);

  await selectPair(page, '00412D', 'user');
  await keepScreenshot(page, testInfo, 'import-report');
  expect(errors, errors.join('\n')).toEqual([]);
  rmSync(f.dir, { recursive: true, force: true });
});

test('files dropped on the drop zone pair by name affix', async ({ page }) => {
  await openApp(page, 'wasm');
  await waitForReady(page);
  await dropFiles(page, [
    { name: 'street_ir.png', bytes: checkerPng(96, 64, 1) },
    { name: 'street_vi.png', bytes: checkerPng(96, 64, 3) },
    { name: 'orphan_vi.png', bytes: checkerPng(96, 64, 3) },
  ]);
  await expect(pairRow(page, 'street', 'user')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await expect(page.getByTestId('report-unmatched')).toContainText('orphan_vi.png');
  await selectPair(page, 'street', 'user');
  const st = await canvasStats(page, 'fused-canvas');
  expect([st.width, st.height]).toEqual([96, 64]);
});

test('a pair too small to mean anything is refused, saying why', async ({ page }) => {
  await openApp(page, 'wasm');
  await waitForReady(page);
  await dropFiles(page, [
    { name: 'dot_ir.png', bytes: checkerPng(1, 1, 1) },
    { name: 'dot_vi.png', bytes: checkerPng(1, 1, 3) },
  ]);
  const row = pairRow(page, 'dot', 'user');
  await expect(row).toHaveAttribute('data-status', 'error', { timeout: 60_000 });
  await expect(row).toContainText('too small to fuse (at least 16 px on each side)');
  await expect(page.getByTestId('report-unreadable')).toContainText('the infrared image is 1x1');
});

test('a pair whose aspect ratios differ is held until the person chooses stretch or crop, and its tag says which', async ({ page }) => {
  await openApp(page, 'wasm');
  await waitForReady(page);
  await dropFiles(page, [
    { name: 'tall_ir.png', bytes: checkerPng(96, 64, 1) },
    { name: 'tall_vi.png', bytes: checkerPng(64, 96, 3) },
    { name: 'lean_ir.png', bytes: checkerPng(96, 64, 1) },
    { name: 'lean_vi.png', bytes: checkerPng(64, 96, 3) },
  ]);
  for (const name of ['tall', 'lean']) {
    await expect(pairRow(page, name, 'user')).toHaveAttribute('data-status', 'held', { timeout: 60_000 });
    await expect(pairRow(page, name, 'user')).toContainText('aspect ratios differ');
  }
  await expect(page.getByTestId('report-held')).toContainText('infrared 96x64 (1.50), visible 64x96 (0.67)');
  await selectPair(page, 'tall', 'user');
  await expect(page.locator('.viewer-body')).toContainText('held unfused');
  await page.locator('.viewer-body').getByRole('button', { name: 'Centre-crop tall' }).click();
  await expect(pairRow(page, 'tall', 'user')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await expect(pairRow(page, 'tall', 'user').getByTestId('aspect-tag')).toHaveText('cropped');
  const st = await canvasStats(page, 'fused-canvas');
  expect([st.width, st.height]).toEqual([96, 64]);
  // The other pair stays held until its own choice.
  await expect(pairRow(page, 'lean', 'user')).toHaveAttribute('data-status', 'held');
  await pairRow(page, 'lean', 'user').getByRole('button', { name: 'Fuse lean anyway (stretch)' }).click();
  await expect(pairRow(page, 'lean', 'user')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await expect(pairRow(page, 'lean', 'user').getByTestId('aspect-tag')).toHaveText('stretched');
  await expect(page.getByTestId('report-held')).toHaveCount(0);
});

test('an undefined metric says why (SCD of a constant infrared image), in the panel and the CSV', async ({ page }, testInfo) => {
  await openApp(page, 'wasm');
  await waitForReady(page);
  await dropFiles(page, [
    { name: 'flat_ir.png', bytes: flatPng(96, 64, 100) },
    { name: 'flat_vi.png', bytes: checkerPng(96, 64, 3) },
  ]);
  await expect(pairRow(page, 'flat', 'user')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await selectPair(page, 'flat', 'user');
  await expect(page.locator('[data-testid=metrics-panel] td[data-metric=SCD]')).toHaveText('— constant infrared image', { timeout: 60_000 });
  await expect(page.locator('[data-testid=metrics-panel] td[data-metric=EN]')).toHaveText(/^\d/);
  await page.getByRole('tab', { name: /^Runs & compare/ }).click();
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '⤓ Metrics CSV' }).click()]);
  const file = testInfo.outputPath(csv.suggestedFilename());
  await csv.saveAs(file);
  const [head, row] = readFileSync(file, 'utf8').trim().split('\n');
  expect(row.split(',')[head.split(',').indexOf('SCD')]).toBe('n/a (constant infrared image)');
});
