/**
 * Other methods beside F in the comparison: a folder of another method's fused images imported
 * as a run (matched to the pairs by name, the rest reported), and a published network run from
 * its released weights (downloaded when first compared). Both reach the set table; the imported
 * folder's scores there are the CLI's `score` numbers on the same folder.
 */
import { expect, test } from '@playwright/test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { loadPipelineModels, runFuse } from '../src/cli/fuse';
import { useBackend } from '../src/cli/node-backend';
import { disposeParams } from '../src/core/models/model-def';
import { REPO, SAMPLES } from './fixtures';
import { appState, logBrowserErrors, openApp, openTab, SAMPLE_NAMES, waitForFused, waitForReady } from './helpers';
import { readPngRgba } from './pixels';

/** Another method, made here: the pixel-wise maximum of the infrared image and the visible luma, as grey PNGs. */
function maxFusionFolder(): string {
  const dir = mkdtempSync(join(process.env.TMPDIR ?? tmpdir(), 'fp-fused-'));
  for (const name of SAMPLE_NAMES) {
    const ir = readPngRgba(join(SAMPLES, 'ir', `${name}.png`));
    const vi = readPngRgba(join(SAMPLES, 'vi', `${name}.png`));
    const png = new PNG({ width: ir.width, height: ir.height, colorType: 0, inputColorType: 0, inputHasAlpha: false });
    const data = Buffer.alloc(ir.width * ir.height);
    for (let i = 0; i < data.length; i++) {
      const y = Math.round(0.299 * vi.rgba[4 * i] + 0.587 * vi.rgba[4 * i + 1] + 0.114 * vi.rgba[4 * i + 2]);
      data[i] = Math.max(ir.rgba[4 * i], y);
    }
    png.data = data;
    writeFileSync(join(dir, `${name}.png`), PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }));
  }
  writeFileSync(join(dir, 'zz-other.png'), PNG.sync.write(new PNG({ width: 8, height: 8 })));
  writeFileSync(join(dir, 'notes.txt'), 'made by the test');
  return dir;
}

test('an imported folder of fused images and a published network are compared as runs, on a set, with the CLI\'s numbers', async ({ page }) => {
  test.setTimeout(600_000);
  const errors = logBrowserErrors(page);
  const folder = maxFusionFolder();
  try {
    await openApp(page, 'wasm');
    await waitForReady(page);
    await waitForFused(page, SAMPLE_NAMES.length);
    await openTab(page, /^Runs & compare/);

    await page.getByTestId('fused-import-input').setInputFiles(folder);
    const msg = page.getByTestId('fused-import-message');
    await expect(msg).toContainText(`${SAMPLE_NAMES.length} loaded pairs matched by name`);
    await expect(msg).toContainText('Not matching any loaded pair: zz-other.png');
    await expect(msg).toContainText('Left out: notes.txt');
    const imported = page.locator('[data-testid=method-row][data-kind=imported]');
    await expect(imported).toHaveCount(1);
    const importedId = (await imported.getAttribute('data-run'))!;

    // A published network: its weights load when first compared.
    const seaf = page.locator('[data-testid=method-row][data-run=peer-seafusion]');
    await expect(seaf).toHaveAttribute('data-load', 'none');
    await seaf.getByRole('checkbox').click();
    await expect(seaf).toHaveAttribute('data-load', 'loaded', { timeout: 60_000 });
    await expect(seaf).toContainText('MB of weights');
    await expect(page.locator(`[data-testid=run-canvas][data-run=peer-seafusion][data-ready=true]`)).toHaveCount(1, { timeout: 120_000 });
    await expect(page.locator(`[data-testid=run-canvas][data-run=${importedId}][data-ready=true]`)).toHaveCount(1, { timeout: 120_000 });

    await page.getByRole('button', { name: `Score 3 runs × ${SAMPLE_NAMES.length} pairs` }).click();
    const table = page.getByTestId('set-table');
    await expect(table.locator('tbody tr')).toHaveCount(3, { timeout: 400_000 });
    await expect(table.locator('tr[data-run=peer-seafusion] th')).toHaveText('SeAFusion, published weights');
    const cell = (run: string, metric: string) => table.locator(`tr[data-run="${run}"] td[data-metric=${metric}]`).getAttribute('data-value');

    // The same folder through `npm run score`'s code, with the weights the app serves.
    await useBackend('wasm');
    const models = await loadPipelineModels(join(REPO, 'dist', 'models'));
    try {
      const cli = await runFuse({ ir: join(SAMPLES, 'ir'), vi: join(SAMPLES, 'vi'), labels: join(SAMPLES, 'label'), fused: folder, out: join(folder, 'out'), loaded: models, backend: 'wasm', log: () => {} });
      for (const m of ['EN', 'SD', 'VIF', 'Qabf', 'SSIM'] as const) {
        expect(Number(await cell(importedId, m)), m).toBeCloseTo(cli.meanMetrics![m], 4);
      }
      expect(Number(await cell(importedId, 'mIoU'))).toBeCloseTo(cli.task!.segmentation!.mIoU, 3);
    } finally {
      disposeParams(models.fusion);
      if (models.segdet) disposeParams(models.segdet);
    }
    // Removing the folder removes its results; the published network stays.
    await imported.getByRole('button', { name: /^remove/ }).click();
    await expect(imported).toHaveCount(0);
    expect(await appState<number>(page, `Object.values(s.results).filter((r) => r.runId === '${importedId}').length`)).toBe(0);
    expect(errors).toEqual([]);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
