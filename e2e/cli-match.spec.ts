/**
 * The app and the CLI give the same result for the bundled samples.
 *
 * The CLI output is produced inside the test run, on the Node side of Playwright: `runFuse`
 * over `public/samples` into a temporary folder, with the weights the app serves
 * (`dist/models`, copied there from `models/` or `MODELS_DIR` by the build). Nothing expected
 * is checked in, so the comparison cannot go stale when the weights change.
 *
 * Tolerance for the fused colour image (canvas vs the CLI's `rgb/<stem>.png`), on WASM:
 * every channel within 1 level (of 255) and at least 99.9 % of pixels identical. Both sides run
 * the same core pipeline (`src/core/pipeline.ts`) on tfjs's WASM backend and read the same PNG
 * bytes, but the browser loads the threaded SIMD build and Node the plain SIMD build, whose
 * XNNPACK kernels may sum in another order; a float difference of ~1e-7 can move a value
 * across a rounding boundary when the fused Y is quantised to 8 bits, and no further.
 * Measured here (Chromium 1 WASM thread vs Node WASM): identical, max |Δ| 0 on all four samples;
 * the margin is for other machines (thread counts, XNNPACK paths).
 */
import { expect, test } from '@playwright/test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFuse } from '../src/cli/fuse';
import { useBackend } from '../src/cli/node-backend';
import { loadModelFolderInto } from '../src/cli/weights-fs';
import { disposeParams } from '../src/core/models/model-def';
import { fusion as fusionDef } from '../src/core/models/fusion';
import { segdet as segdetDef } from '../src/core/models/segdet';
import type { Detection } from '../src/core/types';
import { REPO, SAMPLES } from './fixtures';
import { appState, canvasPixels, keepScreenshot, logBrowserErrors, openApp, SAMPLE_NAMES, selectPair, waitForFused, waitForReady } from './helpers';
import { describeDiff, diffRgba, readPngRgba } from './pixels';

/** Largest per-channel difference allowed, in 8-bit levels (see the file comment). */
const MAX_ABS_DIFF = 1;
/** Smallest fraction of pixels that must be identical in R, G and B. */
const MIN_IDENTICAL = 0.999;
/**
 * Detections (when a segmenter is served): every CLI box scoring at least this has an app box
 * of the same class within BOX_TOL px and SCORE_TOL. The margin above the UI's 0.3 default
 * keeps boxes whose score sits on a threshold out of it; S sees the unquantised fused Y on
 * both sides, so scores differ by far less than SCORE_TOL.
 */
const BOX_MIN_SCORE = 0.35;
const BOX_TOL = 0.5;
const SCORE_TOL = 0.005;

/** The weights the built app serves (what the browser downloads). */
const SERVED_MODELS = existsSync(join(REPO, 'dist', 'models'))
  ? join(REPO, 'dist', 'models')
  : join(REPO, process.env.MODELS_DIR ?? 'models');

interface CliRun {
  out: string;
  withSegdet: boolean;
  log: string[];
  /** The CLI's set-level scores: mean fusion metrics (its metrics.csv means) and mIoU. */
  means: Record<string, number>;
}
let cli: CliRun | null = null;

test.beforeAll(async () => {
  test.setTimeout(300_000);
  if (!existsSync(join(SERVED_MODELS, fusionDef.name, 'model.json'))) return; // the test skips, saying why
  await useBackend('wasm');
  const out = mkdtempSync(join(process.env.TMPDIR ?? tmpdir(), 'fp-cli-match-'));
  const fusion = fusionDef.init(0);
  const segdet = segdetDef.init(0);
  const log: string[] = [];
  try {
    await loadModelFolderInto(join(SERVED_MODELS, fusionDef.name), fusion);
    // Without served segmenter weights the app fuses only; F does not depend on S, so the
    // seeded S here changes nothing that is compared (detections are then not compared).
    const withSegdet = existsSync(join(SERVED_MODELS, segdetDef.name, 'model.json'));
    if (withSegdet) await loadModelFolderInto(join(SERVED_MODELS, segdetDef.name), segdet);
    const summary = await runFuse({
      ir: join(SAMPLES, 'ir'), vi: join(SAMPLES, 'vi'), labels: join(SAMPLES, 'label'), out, loaded: { fusion, segdet },
      backend: 'wasm', metrics: true, log: (s) => log.push(s),
    });
    expect(summary.processed.sort()).toEqual([...SAMPLE_NAMES].sort());
    const means: Record<string, number> = { ...summary.meanMetrics };
    if (withSegdet && summary.task?.segmentation) means.mIoU = summary.task.segmentation.mIoU;
    cli = { out, withSegdet, log, means };
  } finally {
    disposeParams(fusion);
    disposeParams(segdet);
  }
});

test.afterAll(() => {
  if (cli) rmSync(cli.out, { recursive: true, force: true });
});

test('the fused canvas of every sample matches the CLI on WASM', async ({ page }, testInfo) => {
  test.skip(!cli, `no trained fusion weights in ${SERVED_MODELS}: the app shows a baseline the CLI does not have`);
  const run = cli!;
  testInfo.annotations.push({ type: 'cli', description: `models ${SERVED_MODELS}; ${run.log.join(' | ')}` });
  const errors = logBrowserErrors(page);
  await openApp(page, 'wasm');
  expect(await waitForReady(page)).toBe('wasm');
  await waitForFused(page, SAMPLE_NAMES.length);
  const models = await appState<{ name: string; loaded: boolean }[]>(page, 's.worker.models.map((m) => ({ name: m.name, loaded: m.loaded }))');
  expect(models.find((m) => m.name === fusionDef.name)?.loaded, 'the app loaded the fusion weights').toBe(true);
  const appHasSegdet = models.find((m) => m.name === segdetDef.name)?.loaded === true;
  expect(appHasSegdet, 'the app and the CLI use the same segmenter weights').toBe(run.withSegdet);

  const cliDets = new Map<string, number[][]>(
    (JSON.parse(readFileSync(join(run.out, 'detections.json'), 'utf8')) as { images: { file: string; boxes: number[][] }[] })
      .images.map((im) => [im.file.replace(/\.[^.]+$/, ''), im.boxes]),
  );

  for (const name of SAMPLE_NAMES) {
    await selectPair(page, name, 'sample');
    const shown = await canvasPixels(page, 'fused-canvas');
    const expected = readPngRgba(join(run.out, 'rgb', `${name}.png`));
    const d = diffRgba(shown, expected);
    testInfo.annotations.push({ type: `fused ${name} (app vs CLI)`, description: describeDiff(d) });
    expect(d.maxAbs, `${name}: ${describeDiff(d)}`).toBeLessThanOrEqual(MAX_ABS_DIFF);
    expect(d.identical, `${name}: ${describeDiff(d)}`).toBeGreaterThanOrEqual(MIN_IDENTICAL);

    if (appHasSegdet) {
      const appDets = await appState<Detection[]>(page, `s.results['pretrained|sample:${name}'].detections`);
      const want = (cliDets.get(name) ?? []).filter((b) => b[5] >= BOX_MIN_SCORE);
      for (const b of want) {
        const match = appDets.find((a) => a[4] === b[4] && Math.abs(a[5] - b[5]) <= SCORE_TOL
          && [0, 1, 2, 3].every((k) => Math.abs(a[k] - b[k]) <= BOX_TOL));
        expect(match, `${name}: CLI box ${JSON.stringify(b)} not found in the app's ${JSON.stringify(appDets.slice(0, 10))}`).toBeTruthy();
      }
      testInfo.annotations.push({ type: `boxes ${name}`, description: `${want.length} CLI boxes ≥ ${BOX_MIN_SCORE} all found in the app` });
    }
  }
  // The set-level table over the samples: the pretrained row equals the CLI's means.
  await page.getByRole('tab', { name: /^Runs & compare/ }).click();
  await page.getByLabel('Pair set').selectOption('all');
  await page.getByRole('button', { name: /^Score 1 runs × 4 pairs/ }).click();
  const row = page.locator('[data-testid=set-table] tr[data-run=pretrained]');
  await expect(row).toBeVisible({ timeout: 60_000 });
  for (const [metric, want] of Object.entries(run.means)) {
    const got = Number(await row.locator(`td[data-metric=${metric}]`).getAttribute('data-value'));
    expect(Math.abs(got - want) / Math.abs(want), `${metric}: app ${got}, CLI ${want}`).toBeLessThanOrEqual(1e-6);
  }
  testInfo.annotations.push({ type: 'set-level means (app = CLI)', description: Object.keys(run.means).join(', ') });

  // The "⤓ Fused" download is the shown image, pixel for pixel.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '⤓ Fused' }).click()]);
  const file = testInfo.outputPath(download.suggestedFilename());
  await download.saveAs(file);
  expect(download.suggestedFilename()).toBe(`${SAMPLE_NAMES.at(-1)}_fused.png`);
  const saved = diffRgba(readPngRgba(file), await canvasPixels(page, 'fused-canvas'));
  expect(saved.maxAbs, describeDiff(saved)).toBe(0);
  await keepScreenshot(page, testInfo, 'cli-match-last-sample');
  expect(errors, errors.join('\n')).toEqual([]);
});
