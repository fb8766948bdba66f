/**
 * Fine-tuning in the browser.
 *
 * WASM, on the bundled samples, few steps and small crops (3 steps, batch 1, 64×64): a short
 * fine-tune of each strategy (fixed, bdl, td) completes and becomes a run; the runs survive a
 * reload (IndexedDB); the compare view shows them next to the pretrained F with a metrics
 * table; exporting a run's weights and importing them back gives a run whose fused output is
 * pixel-identical to the original's. One tiny fine-tune on WebGPU (a software adapter here:
 * one 64×64 stub pair, 2 steps, 32×32 crops), skipped when the browser has no adapter.
 *
 * One page does the whole WASM flow (steps below) to keep browser runs few: the CPU is shared.
 */
import { expect, test, type Download, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cropPng, SAMPLES, stubSamples } from './fixtures';
import { appState, dropFiles, keepScreenshot, logBrowserErrors, openApp, openTab, SAMPLE_NAMES, waitForFused, waitForReady } from './helpers';
import { readPngRgba } from './pixels';

/** Sets the training form: steps, batch, crop (and preview every step). */
async function setRun(page: Page, o: { steps: number; batch: number; crop: number }): Promise<void> {
  await page.getByLabel('Steps', { exact: true }).fill(String(o.steps));
  await page.getByLabel('Batch', { exact: true }).fill(String(o.batch));
  await page.getByLabel('Crop', { exact: true }).fill(String(o.crop));
  await page.getByLabel('Preview every', { exact: true }).fill('2');
}

/** Starts a fine-tune of `strategy` and waits until it is a run (the run count goes up). */
async function fineTune(page: Page, strategy: string, timeout: number): Promise<void> {
  await openTab(page, /^Fine-tune/);
  await page.getByLabel('Strategy', { exact: true }).selectOption(strategy);
  const before = await runCount(page);
  await page.getByRole('button', { name: 'Start fine-tune' }).click();
  await expect(page.getByTestId('train-progress')).not.toHaveAttribute('data-status', 'idle', { timeout: 10_000 });
  await expect(page.getByTestId('train-progress')).toHaveAttribute('data-status', 'idle', { timeout });
  await expect(page.getByTestId('train-error')).toHaveCount(0);
  expect(await runCount(page)).toBe(before + 1);
}

async function runCount(page: Page): Promise<number> {
  const t = (await page.getByRole('tab', { name: /^Runs & compare/ }).textContent()) ?? '';
  return Number(/\((\d+)\)/.exec(t)?.[1] ?? NaN);
}

/** RGBA pixels of a canvas element. */
async function pixels(page: Page, selector: string): Promise<{ w: number; h: number; data: number[] }> {
  return page.locator(selector).first().evaluate((el) => {
    const c = el as HTMLCanvasElement;
    return { w: c.width, h: c.height, data: Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data) };
  });
}

test('fine-tunes each strategy on WASM; runs survive a reload, compare, and export/import round-trips', async ({ page }, testInfo) => {
  test.setTimeout(900_000);
  const errors = logBrowserErrors(page);
  await openApp(page, 'wasm');
  expect(await waitForReady(page)).toBe('wasm');
  await waitForFused(page, SAMPLE_NAMES.length);

  await test.step('a short fine-tune of each strategy completes', async () => {
    await openTab(page, /^Fine-tune/);
    await expect(page.getByLabel('Strategy', { exact: true }).locator('option')).toHaveCount(3);
    await setRun(page, { steps: 3, batch: 1, crop: 64 });
    // As if this device had run td at this size on WebGPU at 1 ms a step: the Compute panel
    // must then call WASM's steps slower and offer the switch.
    await page.evaluate(() => localStorage.setItem('fusion-playground.step-times',
      JSON.stringify([{ strategy: 'td', batch: 1, crop: 64, backend: 'webgpu', msPerStep: 1, at: 1 }])));
    for (const s of ['fixed', 'bdl', 'td']) {
      await fineTune(page, s, 300_000);
      // Three steps of losses drawn, the preview re-fused, and which labels were used said.
      await expect(page.getByTestId('loss-chart')).toHaveAttribute('data-points', '3');
      // bdl's task weights and coefficients are drawn beside the losses (td: ε); fixed has none.
      await expect(page.getByTestId('stats-chart')).toHaveCount(s === 'fixed' ? 0 : 1);
      if (s === 'bdl') await expect(page.getByTestId('stats-chart')).toContainText('w.task');
      expect(Number(await page.getByTestId('train-preview').getAttribute('data-version'))).toBeGreaterThan(0);
      await expect(page.getByTestId('label-sources')).toContainText('from label PNGs');
      await expect(page.getByText(/^Task targets:/)).toHaveCount(1); // said once, not again in the notes
      // The Compute panel says the time per step and where it ran.
      await expect(page.getByTestId('step-time')).toContainText(/Fine-tune: \d+ ms per step on wasm/);
      await expect(page.getByTestId('step-time-faster')).toHaveCount(s === 'td' ? 1 : 0);
      await keepScreenshot(page, testInfo, `trained-${s}`);
    }
    await expect(page.getByTestId('step-time-faster')).toContainText('Slower than webgpu on this device (1 ms per step');
    await expect(page.getByTestId('step-time-faster').getByRole('button', { name: 'Switch to webgpu' })).toBeEnabled();
  });

  await test.step('pause, resume and stop: the run keeps the steps done', async () => {
    await page.getByLabel('Strategy', { exact: true }).selectOption('fixed');
    await page.getByLabel('Steps', { exact: true }).fill('500');
    await page.getByRole('button', { name: 'Start fine-tune' }).click();
    const progress = page.getByTestId('train-progress');
    await expect.poll(async () => Number(await progress.getAttribute('data-step')), { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect(progress).toHaveAttribute('data-status', 'paused');
    const at = Number(await progress.getAttribute('data-step'));
    await page.waitForTimeout(1500);
    expect(Number(await progress.getAttribute('data-step'))).toBe(at);
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(async () => Number(await progress.getAttribute('data-step')), { timeout: 30_000 }).toBeGreaterThan(at);
    await page.getByRole('button', { name: 'Stop' }).click();
    await expect(progress).toHaveAttribute('data-status', 'idle', { timeout: 60_000 });
    expect(await runCount(page)).toBe(4);
    await expect(page.getByTestId('train-notes')).toContainText('Stopped after');
  });

  await test.step('a sweep queues one fixed run per intensity:gradient ratio', async () => {
    await page.getByLabel('Steps', { exact: true }).fill('3');
    await page.getByLabel('Sweep ratios').fill('1:1, 1:5');
    await page.getByRole('button', { name: 'Run sweep' }).click();
    await expect.poll(() => runCount(page), { timeout: 300_000 }).toBe(6);
    await expect(page.getByTestId('train-progress')).toHaveAttribute('data-status', 'idle', { timeout: 60_000 });
  });

  await test.step('the runs survive a reload; rename and duplicate', async () => {
    await page.reload();
    await waitForReady(page);
    await openTab(page, /^Runs & compare/);
    await expect(page.getByTestId('run-row')).toHaveCount(6);
    for (const s of ['bdl', 'td']) await expect(page.locator(`[data-testid=run-row][data-strategy=${s}]`)).toHaveCount(1);
    await expect(page.locator('[data-testid=run-row][data-name="sweep int 1 : grad 5"]')).toHaveCount(1);
    const bdl = page.locator('[data-testid=run-row][data-strategy=bdl]');
    await bdl.getByRole('button', { name: 'Rename' }).click();
    await bdl.getByLabel('New run name').fill('bdl renamed');
    await bdl.getByRole('button', { name: 'Save' }).click();
    await expect(page.locator('[data-testid=run-row][data-name="bdl renamed"]')).toHaveCount(1);
    // Duplicate prefills the fine-tune panel with the run's settings.
    await page.locator('[data-testid=run-row][data-name="sweep int 1 : grad 5"]').getByRole('button', { name: 'Duplicate' }).click();
    await expect(page.getByRole('tab', { name: /^Fine-tune/ })).toHaveAttribute('aria-selected', 'true');
    await expect(page.getByLabel('Run name')).toHaveValue('sweep int 1 : grad 5 (copy)');
    await expect(page.getByLabel('option gradient', { exact: true })).toHaveValue('5');
    await openTab(page, /^Runs & compare/);
    // Compare only bdl, td and the 1:5 sweep run.
    for (const row of await page.getByTestId('run-row').all()) {
      const name = (await row.getAttribute('data-name')) ?? '';
      const want = ['bdl renamed', 'sweep int 1 : grad 5'].includes(name) || (await row.getAttribute('data-strategy')) === 'td' || name.startsWith('#1 ');
      const box = row.getByRole('checkbox');
      if ((await box.isChecked()) !== want) await box.click();
    }
  });

  await test.step('the compare view shows the runs next to the pretrained F, with metrics', async () => {
    await waitForFused(page, SAMPLE_NAMES.length);
    // Pretrained + four runs, all fused.
    await expect(page.locator('[data-testid=run-canvas][data-ready=true]')).toHaveCount(5, { timeout: 120_000 });
    const table = page.getByTestId('compare-table');
    await expect(table.locator('tbody tr')).toHaveCount(5);
    await expect(table.locator('td[data-best=true]').first()).toBeVisible();
    await expect(table.locator('thead')).toContainText('VIF');
    // td runs show their learned weight map.
    await expect(page.getByTestId('weight-map')).toHaveCount(1);
    await keepScreenshot(page, testInfo, 'compare');
    // Metrics as CSV: a header and one line per row of the table.
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '⤓ Metrics CSV' }).click()]);
    const csvPath = testInfo.outputPath(csv.suggestedFilename());
    await csv.saveAs(csvPath);
    const lines = readFileSync(csvPath, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('run,strategy,EN,SD,SF,AG,MI,SCD,VIF,Qabf,SSIM,mIoU,mAP50');
    expect(lines).toHaveLength(6);

    // The same runs over the set of pairs, with intervals, exported for a paper.
    await page.getByLabel('Pair set').selectOption('all');
    await page.getByRole('button', { name: /^Score 5 runs × 4 pairs/ }).click();
    const setTable = page.getByTestId('set-table');
    await expect(setTable.locator('tbody tr')).toHaveCount(5, { timeout: 120_000 });
    await expect(setTable.locator('td[data-best=true]').first()).toBeVisible();
    const [tex] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '⤓ Set LaTeX' }).click()]);
    expect(tex.suggestedFilename()).toBe('set_all_4pairs_5runs.tex');
    const texPath = testInfo.outputPath(tex.suggestedFilename());
    await tex.saveAs(texPath);
    const latex = readFileSync(texPath, 'utf8');
    expect(latex).toMatch(/\\begin\{tabular\}\{lr+\}/);
    expect(latex).toContain('\\textbf{');
    expect(latex.split('\n').filter((l) => l.endsWith('\\\\'))).toHaveLength(6); // header + 5 runs
    const [setCsv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '⤓ Set CSV' }).click()]);
    const setCsvPath = testInfo.outputPath(setCsv.suggestedFilename());
    await setCsv.saveAs(setCsvPath);
    const setLines = readFileSync(setCsvPath, 'utf8').trim().split('\n');
    expect(setLines).toHaveLength(6);
    expect(setLines[0]).toMatch(/^run,strategy,pairs,EN,EN_lo,EN_hi,/);
    expect(setLines.slice(1).every((l) => l.split(',')[2] === '4')).toBe(true);

    // The trade-off plot: one point per run; clicking a point selects that run for the swipe.
    const plot = page.getByTestId('tradeoff-plot');
    await expect(plot).toHaveAttribute('data-points', /run/);
    const pts = JSON.parse((await plot.getAttribute('data-points'))!) as { run: string; x: number; y: number }[];
    expect(pts).toHaveLength(5);
    const target = pts.find((p) => p.run !== 'pretrained' && !pts.some((q) => q !== p && Math.hypot(q.x - p.x, q.y - p.y) < 16))
      ?? pts.find((p) => p.run !== 'pretrained')!;
    await plot.locator('.u-over').scrollIntoViewIfNeeded();
    const over = (await plot.locator('.u-over').boundingBox())!;
    await page.mouse.click(over.x + target.x, over.y + target.y);
    await expect(page.getByLabel('Swipe right')).toHaveValue(target.run);
    await expect(page.locator(`[data-testid=set-table] tr[data-run="${target.run}"]`)).toHaveAttribute('data-selected', 'true');
    const [png] = await Promise.all([page.waitForEvent('download'), plot.getByRole('button', { name: '⤓ Plot PNG' }).click()]);
    expect(png.suggestedFilename()).toBe('set_all_4pairs_mIoU_vs_VIF.png');
    const pngPath = testInfo.outputPath(png.suggestedFilename());
    await png.saveAs(pngPath);
    expect(readPngRgba(pngPath).width).toBeGreaterThan(200);
    const [json] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '⤓ Set JSON' }).click()]);
    const jsonPath = testInfo.outputPath(json.suggestedFilename());
    await json.saveAs(jsonPath);
    const setJson = JSON.parse(readFileSync(jsonPath, 'utf8')) as { pairs: number; rows: { runId: string; scores: Record<string, { value: number; lo: number; hi: number }> }[] };
    expect(setJson.pairs).toBe(4);
    expect(setJson.rows.map((r) => r.runId)).toContain(target.run);
    for (const r of setJson.rows) expect(r.scores.VIF.lo).toBeLessThanOrEqual(r.scores.VIF.value);
    await keepScreenshot(page, testInfo, 'set-compare');

    // One zoom for every tile. A plain wheel over a tile scrolls the panel (the tiles keep their
    // view); Ctrl + wheel over one tile zooms them all the same way, and so do the buttons.
    const worlds = page.locator('[data-testid=run-grid] [data-testid=run-stage] .world:first-child');
    await expect(worlds).toHaveCount(5);
    const transformOf = () => worlds.nth(1).evaluate((el) => (el as HTMLElement).style.transform);
    const allSame = async () => {
      const transforms = await worlds.evaluateAll((els) => els.map((el) => (el as HTMLElement).style.transform));
      expect(new Set(transforms).size, transforms.join(' | ')).toBe(1);
    };
    const before = await transformOf();
    const tile = page.locator('[data-testid=run-grid] [data-testid=run-stage]').first();
    const overTile = async () => {
      await tile.scrollIntoViewIfNeeded();
      const tb = (await tile.boundingBox())!;
      await page.mouse.move(tb.x + tb.width / 2, tb.y + tb.height / 2);
    };
    await page.evaluate(() => {
      const w = window as unknown as { wheelPrevented: boolean[] };
      w.wheelPrevented = [];
      document.addEventListener('wheel', (e) => w.wheelPrevented.push(e.defaultPrevented));
    });
    await overTile();
    await page.mouse.wheel(0, 120);
    await expect.poll(() => page.evaluate(() => (window as unknown as { wheelPrevented: boolean[] }).wheelPrevented.length)).toBeGreaterThan(0);
    expect(await page.evaluate(() => (window as unknown as { wheelPrevented: boolean[] }).wheelPrevented.some((p) => p))).toBe(false);
    expect(await transformOf()).toBe(before);
    const lab = page.getByRole('region', { name: 'Fine-tuning' });
    await lab.getByRole('button', { name: 'Zoom in' }).click();
    await expect.poll(transformOf).not.toBe(before);
    await allSame();
    await lab.getByRole('button', { name: 'Fit', exact: true }).click();
    await expect.poll(transformOf).toBe(before);
    await overTile();
    await page.keyboard.down('Control');
    await page.mouse.wheel(0, -400);
    await page.keyboard.up('Control');
    await expect.poll(transformOf).not.toBe(before);
    await allSame();

    // A paper figure: IR, VI and the five results side by side with an inset, at full resolution.
    await page.getByRole('button', { name: 'Inset from view' }).click();
    await expect(page.getByTestId('run-grid')).toHaveAttribute('data-inset', 'true');
    const [grid] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '⤓ Grid PNG' }).click()]);
    expect(grid.suggestedFilename()).toBe('grid_00233D_5runs_inset.png');
    const gridPath = testInfo.outputPath(grid.suggestedFilename());
    await grid.saveAs(gridPath);
    const figure = readPngRgba(gridPath);
    expect(figure.width).toBe(7 * 640 + 6 * 8);
    expect(figure.height).toBeGreaterThan(480);
    // The inset's red frame is drawn (pure red pixels exist; the samples have next to none).
    let red = 0;
    for (let i = 0; i < figure.rgba.length; i += 4) if (figure.rgba[i] > 250 && figure.rgba[i + 1] < 40 && figure.rgba[i + 2] < 40) red++;
    expect(red).toBeGreaterThan(1000);

    // The difference between a run and the pretrained F, with its colour bar.
    await page.getByLabel('Difference A').selectOption(target.run);
    await page.getByLabel('Difference B').selectOption('pretrained');
    await expect(page.getByTestId('diff-view')).toBeVisible({ timeout: 30_000 });
    await expect(page.getByTestId('diff-view').getByTestId('colour-bar')).toBeVisible();
    expect(Number(await page.getByTestId('diff-view').getAttribute('data-max'))).toBeGreaterThanOrEqual(0);
    await page.getByLabel('Difference A').selectOption('ir');
    await expect.poll(async () => Number(await page.getByTestId('diff-view').getAttribute('data-max'))).toBeGreaterThan(10);
  });

  await test.step('export then import gives the same fused output', async () => {
    const row = page.locator('[data-testid=run-row][data-strategy=fixed]').first();
    const fixedId = (await row.getAttribute('data-run'))!;
    const downloads: Download[] = [];
    page.on('download', (d) => downloads.push(d));
    await row.getByRole('button', { name: 'Export weights' }).click();
    await expect.poll(() => downloads.length, { timeout: 10_000 }).toBe(2);
    const files = await Promise.all(downloads.map(async (d) => {
      const p = testInfo.outputPath(d.suggestedFilename());
      await d.saveAs(p);
      return p;
    }));
    expect(files.some((f) => f.endsWith('.model.json'))).toBe(true);
    expect(files.some((f) => f.endsWith('.weights.bin'))).toBe(true);
    const manifest = JSON.parse(readFileSync(files.find((f) => f.endsWith('.model.json'))!, 'utf8')) as { weightsManifest: { paths: string[] }[] };
    expect(manifest.weightsManifest[0].paths[0]).toMatch(/\.weights\.bin$/);

    await page.getByTestId('run-import-input').setInputFiles(files);
    await expect(page.getByTestId('import-message')).toContainText('Imported as');
    await expect(page.getByTestId('run-row')).toHaveCount(7);
    const importedId = (await page.locator('[data-testid=run-row]').last().getAttribute('data-run'))!;
    expect(importedId).not.toBe(fixedId);

    await expect(page.locator(`[data-testid=run-canvas][data-run="${importedId}"][data-ready=true]`)).toHaveCount(1, { timeout: 60_000 });
    const a = await pixels(page, `[data-testid=run-canvas][data-run="${fixedId}"]`);
    const b = await pixels(page, `[data-testid=run-canvas][data-run="${importedId}"]`);
    expect([b.w, b.h]).toEqual([a.w, a.h]);
    let diff = 0;
    for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) diff++;
    expect(diff, 'pixels differing between the run and its exported+imported copy').toBe(0);

    // A td run exports F and G; imported back, its learned weight map shows again.
    downloads.length = 0;
    await page.locator('[data-testid=run-row][data-strategy=td]').first().getByRole('button', { name: 'Export weights' }).click();
    await expect.poll(() => downloads.length, { timeout: 10_000 }).toBe(4);
    const tdFiles = await Promise.all(downloads.map(async (d) => {
      const p = testInfo.outputPath('td', d.suggestedFilename());
      await d.saveAs(p);
      return p;
    }));
    expect(tdFiles.filter((f) => /\.lossGenerator\.(model\.json|weights\.bin)$/.test(f))).toHaveLength(2);
    await page.getByTestId('run-import-input').setInputFiles(tdFiles);
    await expect(page.getByTestId('run-row')).toHaveCount(8);
    await expect(page.locator('[data-testid=run-row][data-strategy=td]')).toHaveCount(2);
    await expect(page.getByTestId('weight-map')).toHaveCount(2, { timeout: 60_000 });

    // A run as one file (settings, loss history, weights of F and G); imported back, it fuses
    // pixel for pixel as the original and shows its weight map and last loss.
    downloads.length = 0;
    const tdRow = page.locator('[data-testid=run-row][data-strategy=td]').first();
    const tdId = (await tdRow.getAttribute('data-run'))!;
    await tdRow.getByRole('button', { name: 'Export run' }).click();
    await expect.poll(() => downloads.length, { timeout: 10_000 }).toBe(1);
    expect(downloads[0].suggestedFilename()).toMatch(/\.fprun$/);
    const runFile = testInfo.outputPath(downloads[0].suggestedFilename());
    await downloads[0].saveAs(runFile);
    await page.getByTestId('run-import-input').setInputFiles([runFile]);
    await expect(page.getByTestId('run-row')).toHaveCount(9);
    const fromFile = page.locator('[data-testid=run-row]').last();
    await expect(fromFile).toHaveAttribute('data-strategy', 'td');
    await expect(fromFile).toContainText(/loss \d/);
    const fromFileId = (await fromFile.getAttribute('data-run'))!;
    await expect(page.getByTestId('weight-map')).toHaveCount(3, { timeout: 60_000 });
    await expect(page.locator(`[data-testid=run-canvas][data-run="${fromFileId}"][data-ready=true]`)).toHaveCount(1, { timeout: 60_000 });
    const t0 = await pixels(page, `[data-testid=run-canvas][data-run="${tdId}"]`);
    const t1 = await pixels(page, `[data-testid=run-canvas][data-run="${fromFileId}"]`);
    expect(t1.data.every((v, i) => v === t0.data[i]), 'the .fprun copy fuses as the original').toBe(true);

    // The swipe view compares the run with the pretrained F.
    await page.getByLabel('Swipe left').selectOption('pretrained');
    await page.getByLabel('Swipe right').selectOption(importedId);
    await expect(page.getByTestId('run-swipe')).toBeVisible();
    // So can the viewer's swipe view: the pretrained fused image against the run.
    await page.getByRole('radiogroup', { name: 'View mode' }).getByRole('radio', { name: 'Swipe' }).click();
    await page.getByRole('radiogroup', { name: 'Left image' }).getByRole('radio', { name: 'Fused' }).click();
    await page.getByLabel('Right run').selectOption(importedId);
    await expect(page.locator('.viewer .stage-caption.right')).toHaveText(/^Run: .*\(imported\)/);
    await expect(page.locator('.viewer .stage-caption.left')).toHaveText('Fused');
    await keepScreenshot(page, testInfo, 'export-import');
  });

  // Nothing went wrong along the way (the missing-segmenter notice aside, until it is trained).
  const logs = await appState<string[]>(page, "s.log.filter((l) => l.level !== 'info').map((l) => l.message)");
  expect(logs.filter((m) => !/^Model segdet/.test(m))).toEqual([]);
  expect(errors, errors.join('\n')).toEqual([]);
});

// ---------------------------------------------------------------------------------------------
// WebGPU (software adapter here): one small stub pair so that every pass stays short.


test('an unlabelled pair trains on pseudo-labels from the segmenter, or says why it cannot', async ({ page }, testInfo) => {
  test.setTimeout(300_000);
  await stubSamples(page, false);
  await openApp(page, 'wasm');
  await waitForReady(page);
  await waitForFused(page, 1);
  const segdet = await appState<boolean>(page, "s.worker.models.some((m) => m.name === 'segdet' && m.loaded)");
  await openTab(page, /^Fine-tune/);
  await setRun(page, { steps: 2, batch: 1, crop: 64 });
  await page.getByLabel('Strategy', { exact: true }).selectOption('fixed');
  if (segdet) {
    await expect(page.getByTestId('label-source-hint')).toContainText('pseudo-labels from the pretrained segmenter');
    await fineTune(page, 'fixed', 120_000);
    await expect(page.getByTestId('label-sources')).toContainText('1 from pseudo-labels');
  } else {
    await expect(page.getByTestId('label-source-hint')).toContainText('no segmenter is loaded');
    await page.getByRole('button', { name: 'Start fine-tune' }).click();
    await expect(page.getByTestId('train-error')).toContainText('no label and no segmenter', { timeout: 60_000 });
    // Without task terms it trains.
    await page.getByLabel('option segmentation', { exact: true }).fill('0');
    await page.getByLabel('option detection', { exact: true }).fill('0');
    await fineTune(page, 'fixed', 120_000);
  }
  await keepScreenshot(page, testInfo, segdet ? 'pseudo-labels' : 'no-labels');
  // The result is kept as a run, and can be discarded right there.
  await expect(page.getByTestId('kept-run')).toContainText('Kept as run');
  const n = await runCount(page);
  await page.getByTestId('kept-run').getByRole('button', { name: 'Discard it' }).click();
  await expect.poll(() => runCount(page)).toBe(n - 1);
});

test('a diverging fine-tune skips the bad step, restores the last good parameters and says so', async ({ page }) => {
  test.setTimeout(300_000);
  await stubSamples(page, true);
  await openApp(page, 'wasm');
  await waitForReady(page);
  await waitForFused(page, 1);
  await openTab(page, /^Fine-tune/);
  await setRun(page, { steps: 10, batch: 1, crop: 64 });
  await page.getByLabel('Strategy', { exact: true }).selectOption('fixed');
  // An absurd learning rate without clipping and without task terms: Adam blows F up within a few steps.
  await page.getByLabel('Learning rate', { exact: true }).fill('1000');
  for (const [k, v] of [['clipNorm', '0'], ['segmentation', '0'], ['detection', '0']]) await page.getByLabel(`option ${k}`, { exact: true }).fill(v);
  await fineTune(page, 'fixed', 120_000);
  await expect(page.getByTestId('train-notes')).toContainText(/non-finite .*step skipped, parameters restored/);
});

test('storage full: a run the browser cannot store stays for the session, says so and exports; stored runs are untouched', async ({ page }, testInfo) => {
  test.setTimeout(300_000);
  // Fake a full disk for run weights once the page sets the flag (a real one aborts the same transaction).
  await page.addInitScript(() => {
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      if ((window as unknown as { __storageFull?: boolean }).__storageFull && this.name === 'weights') {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      }
      return put.apply(this, args);
    };
  });
  await stubSamples(page, true);
  await openApp(page, 'wasm');
  await waitForReady(page);
  await waitForFused(page, 1);
  await openTab(page, /^Fine-tune/);
  await setRun(page, { steps: 1, batch: 1, crop: 64 });
  await fineTune(page, 'fixed', 120_000);
  await page.evaluate(() => { (window as unknown as { __storageFull?: boolean }).__storageFull = true; });
  await fineTune(page, 'fixed', 120_000);
  await openTab(page, /^Runs & compare/);
  await expect(page.getByTestId('run-unsaved')).toHaveCount(1);
  await expect(page.getByTestId('storage-use')).toContainText(/stored .* MB of .* MB/);
  const logs = await appState<string[]>(page, "s.log.map((l) => l.message)");
  expect(logs.some((m) => /kept for this session only: the browser's storage is full/.test(m))).toBe(true);
  // The run can still leave as a file.
  const unsaved = page.locator('[data-testid=run-row]').filter({ has: page.getByTestId('run-unsaved') });
  const [file] = await Promise.all([page.waitForEvent('download'), unsaved.getByRole('button', { name: 'Export run' }).click()]);
  expect(file.suggestedFilename()).toMatch(/\.fprun$/);
  await file.saveAs(testInfo.outputPath(file.suggestedFilename()));
  // After a reload only the stored run is there, whole.
  await page.reload();
  await waitForReady(page);
  await openTab(page, /^Runs & compare/);
  await expect(page.getByTestId('run-row')).toHaveCount(1);
  await expect(page.getByTestId('run-unsaved')).toHaveCount(0);
  await expect(page.locator('[data-testid=run-canvas][data-ready=true]')).toHaveCount(2, { timeout: 60_000 });
});

/** Opens the app on WebGPU with the one small stub pair fused (skips where there is no adapter). */
async function openSmallOnWebGpu(page: Page): Promise<void> {
  await stubSamples(page, true);
  await openApp(page, 'webgpu');
  const backend = await waitForReady(page, 300_000);
  test.skip(backend !== 'webgpu', `no WebGPU adapter in this browser (running on ${backend})`);
  await waitForFused(page, 1, 300_000);
}

// WebGPU (the software adapter here) fuses, fine-tunes, loses its device mid-fuse and mid-fine-tune,
// and carries on: one test, as each start on the software adapter costs half a minute.
test('a GPU device lost mid-fuse and mid-fine-tune: said, re-initialised, the pair fused again, the run kept with its steps', async ({ page }, testInfo) => {
  test.setTimeout(600_000);
  await openSmallOnWebGpu(page);
  const loseDevice = () => page.evaluate(() => (window as unknown as { __fusionPlayground: { client: { debugLoseDevice(): Promise<{ ok: boolean }> } } })
    .__fusionPlayground.client.debugLoseDevice());
  const lostCount = () => appState<number>(page, "s.log.filter((l) => /GPU device lost.*Re-initialising/.test(l.message)).length");

  // Mid-fuse: a 64×64 pair (about 10 s on the software adapter) is fusing when the device goes.
  const name = 'lost64';
  await dropFiles(page, (['ir', 'vi'] as const).map((m) => ({ name: `${name}_${m}.png`, bytes: cropPng(join(SAMPLES, m, `${SAMPLE_NAMES[0]}.png`), m === 'ir' ? 1 : 3, { x: 240, y: 160, size: 64 }) })));
  const row = page.locator(`[data-testid=pair-row][data-pair="${name}"]`);
  await expect(row).toHaveAttribute('data-status', 'fusing', { timeout: 120_000 });
  expect((await loseDevice()).ok).toBe(true);
  await expect.poll(lostCount, { timeout: 30_000 }).toBe(1);
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-backend', 'webgpu', { timeout: 300_000 });
  await expect(row).toHaveAttribute('data-status', 'done', { timeout: 300_000 });
  await expect(page.locator('[data-testid=pair-row][data-status=done]')).toHaveCount(2, { timeout: 300_000 });

  // Mid-fine-tune: the run stops with the steps of its last checkpoint (taken after step 1).
  await openTab(page, /^Fine-tune/);
  await setRun(page, { steps: 500, batch: 1, crop: 32 });
  await page.getByLabel('Preview every', { exact: true }).fill('1000');
  await page.getByLabel('Strategy', { exact: true }).selectOption('fixed');
  await page.getByRole('button', { name: 'Start fine-tune' }).click();
  await expect.poll(async () => Number(await page.getByTestId('train-progress').getAttribute('data-step')), { timeout: 300_000 }).toBeGreaterThanOrEqual(2);
  // Fine-tuning runs on WebGPU: its loss curve grows, and every kernel of its steps built and ran.
  await expect.poll(async () => Number(await page.getByTestId('loss-chart').getAttribute('data-points'))).toBeGreaterThanOrEqual(2);
  // (tfjs runs on past a kernel that failed to build; the app logs the device's uncaptured errors.)
  expect(await appState<string[]>(page, "s.log.filter((l) => /WebGPU error/.test(l.message)).map((l) => l.message)")).toEqual([]);
  expect((await loseDevice()).ok).toBe(true);
  await expect(page.getByTestId('train-progress')).toHaveAttribute('data-status', 'idle', { timeout: 60_000 });
  await expect(page.getByTestId('train-error')).toHaveCount(0);
  expect(await runCount(page)).toBe(1);
  await expect(page.getByTestId('train-notes')).toContainText(/GPU device lost .*: the run keeps the \d+ step\(s\) taken before its last checkpoint/);
  const run = await appState<{ steps: number; stopped: boolean; models: string[] }>(page, 'Object.values(s.runs)[0]');
  expect(run.stopped).toBe(true);
  expect(run.steps).toBeGreaterThanOrEqual(1);
  expect(run.steps).toBeLessThan(500);
  expect(run.models).toContain('fusion');
  expect(await lostCount()).toBe(2);
  // The kept weights fuse on the re-initialised device.
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-backend', 'webgpu', { timeout: 300_000 });
  await openTab(page, /^Runs & compare/);
  await expect(page.locator('[data-testid=run-canvas][data-ready=true]')).toHaveCount(2, { timeout: 300_000 });
  await keepScreenshot(page, testInfo, 'device-lost');
});
