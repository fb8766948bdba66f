/**
 * Task-adapted scoring in the page: S's heads adapted to a run's and the pretrained F's fused
 * images of the labelled samples (K = 2 steps here, to keep CI short), with progress; the set
 * table then lists each with the pretrained S and with its adapted S (the same fusion metrics,
 * other task scores); the run keeps its adapted S across a reload and in its .fprun file.
 */
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { decodeRunFile } from '../src/ui/run-file';
import { logBrowserErrors, openApp, openTab, SAMPLE_NAMES, waitForFused, waitForReady } from './helpers';

test('S adapted to a run\'s images: scored both ways on a set, kept with the run and in its file', async ({ page }, testInfo) => {
  test.setTimeout(900_000);
  const errors = logBrowserErrors(page);
  await openApp(page, 'wasm');
  await waitForReady(page);
  await waitForFused(page, SAMPLE_NAMES.length);

  // A short run to adapt S to.
  await openTab(page, /^Fine-tune/);
  await page.getByLabel('Strategy', { exact: true }).selectOption('fixed');
  await page.getByLabel('Steps', { exact: true }).fill('2');
  await page.getByLabel('Batch', { exact: true }).fill('1');
  await page.getByLabel('Crop', { exact: true }).fill('64');
  await page.getByRole('button', { name: 'Start fine-tune' }).click();
  await expect(page.getByRole('tab', { name: /^Runs & compare \(1\)/ })).toBeVisible({ timeout: 300_000 });
  await expect(page.getByTestId('train-progress')).toHaveAttribute('data-status', 'idle', { timeout: 60_000 });

  await openTab(page, /^Runs & compare/);
  const row = page.getByTestId('run-row');
  const runId = (await row.getAttribute('data-run'))!;
  await page.getByLabel('Adaptation steps K').fill('2');
  await page.getByRole('button', { name: `Adapt S to 2 runs (${SAMPLE_NAMES.length} labelled pairs)` }).click();
  await expect(page.getByTestId('adapt-controls')).toHaveAttribute('data-state', 'running');
  await expect(page.getByTestId('adapt-controls')).toHaveAttribute('data-state', 'idle', { timeout: 300_000 });
  await expect(page.getByTestId('adapt-error')).toHaveCount(0);
  await expect(row.getByTestId('run-adapted')).toHaveText('S adapted (K 2)');

  await page.getByRole('button', { name: `Score 4 runs × ${SAMPLE_NAMES.length} pairs` }).click();
  const table = page.getByTestId('set-table');
  await expect(table.locator('tbody tr')).toHaveCount(4, { timeout: 400_000 });
  const value = async (run: string, metric: string) => Number(await table.locator(`tr[data-run="${run}"] td[data-metric=${metric}]`).getAttribute('data-value'));
  for (const base of ['pretrained', runId]) {
    await expect(table.locator(`tr[data-run="${base}@S"] th`)).toContainText('S adapted (K 2)');
    // The same F, so the same fused images: the fusion metrics agree; S differs, so may its scores.
    for (const m of ['EN', 'VIF', 'Qabf']) expect(await value(`${base}@S`, m), `${base} ${m}`).toBe(await value(base, m));
    expect(Number.isFinite(await value(`${base}@S`, 'mIoU'))).toBe(true);
  }
  testInfo.annotations.push({ type: 'mIoU frozen → adapted (K 2)', description: `pretrained ${await value('pretrained', 'mIoU')} → ${await value('pretrained@S', 'mIoU')}; run ${await value(runId, 'mIoU')} → ${await value(`${runId}@S`, 'mIoU')}` });

  // The run's adapted S is stored with it and goes into its file.
  await page.reload();
  await waitForReady(page);
  await openTab(page, /^Runs & compare/);
  await expect(page.getByTestId('run-row').getByTestId('run-adapted')).toHaveText('S adapted (K 2)');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('run-row').getByRole('button', { name: 'Export run' }).click()]);
  const file = testInfo.outputPath(download.suggestedFilename());
  await download.saveAs(file);
  const { run, weights } = decodeRunFile(new Uint8Array(readFileSync(file)));
  expect(run.adaptedS?.steps).toBe(2);
  expect(run.adaptedS?.pairNames.sort()).toEqual([...SAMPLE_NAMES].sort());
  expect(Object.keys(weights).sort()).toEqual(['fusion', 'segdetAdapted']);
  expect(errors).toEqual([]);
});
