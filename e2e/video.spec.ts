/**
 * Video pairs: test videos are made by the test itself, in the page (mediabunny's
 * bundle served same-origin, WebCodecs VP8), from windows of a bundled sample moving across it;
 * the infrared and visible videos differ in frame rate. Then: pairing by name, stepping, live
 * playback that skips frames rather than queueing them, export read back and checked, a
 * fine-tune on frames sampled from the video whose run is then shown and exported on it, a
 * broken video, a codec the browser lacks and a video past the frame cap reported, and videos
 * of different aspect ratios held.
 */
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SAMPLES, stubSamples } from './fixtures';
import { appState, canvasPixels, dropFiles, keepScreenshot, openApp, waitForFused, waitForReady } from './helpers';
import { makeVideo, muxVideo, readVideo, serveMediabunny } from './video-helpers';

test('an infrared and a visible video pair by name, play live with skipping, step, export every frame, fine-tune on sampled frames and see and export the run on the video; broken, undecodable, too long and mismatched videos reported', async ({ page }, testInfo) => {
  test.setTimeout(300_000);
  await serveMediabunny(page);
  await stubSamples(page, false);
  await openApp(page, 'wasm');
  await waitForReady(page);
  await waitForFused(page, 1);

  // Infrared at 30 fps (60 frames), visible at 60 fps (120 frames, the same 2 s): 60 paired frames.
  const irPng = readFileSync(join(SAMPLES, 'ir', '00726N.png'));
  const viPng = readFileSync(join(SAMPLES, 'vi', '00726N.png'));
  const ir = await makeVideo(page, irPng, 60, 30);
  const vi = await makeVideo(page, viPng, 120, 60);
  const long = await muxVideo(page, 'long');
  const hevc = await muxVideo(page, 'hevc');
  await dropFiles(page, [
    { name: 'street_ir.webm', bytes: ir, type: 'video/webm' },
    { name: 'street_vi.webm', bytes: vi, type: 'video/webm' },
    { name: 'broken_ir.webm', bytes: Buffer.from('not a video at all'), type: 'video/webm' },
    { name: 'broken_vi.webm', bytes: vi, type: 'video/webm' },
    { name: 'square_ir.webm', bytes: await makeVideo(page, irPng, 10, 30), type: 'video/webm' },
    { name: 'square_vi.webm', bytes: await makeVideo(page, viPng, 10, 30, 72, 72), type: 'video/webm' },
    { name: 'long_ir.webm', bytes: long, type: 'video/webm' },
    { name: 'long_vi.webm', bytes: long, type: 'video/webm' },
    { name: 'hevc_ir.mkv', bytes: hevc, type: 'video/x-matroska' },
    { name: 'hevc_vi.mkv', bytes: hevc, type: 'video/x-matroska' },
  ]);
  const row = page.locator('[data-testid=pair-row][data-pair="street"]');
  await expect(row.getByTestId('video-tag')).toBeVisible({ timeout: 60_000 });
  await expect(row).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await expect(page.getByTestId('report-unmatched').locator('li').filter({ hasText: 'broken_ir.webm' })).toContainText(/not a readable video|no video track/);
  // A codec the browser lacks, and a video past the frame cap (read up to it, and said).
  await expect(page.getByTestId('report-unmatched').locator('li').filter({ hasText: 'hevc_ir.mkv' })).toContainText('this browser cannot decode its video');
  await expect(page.locator('[data-testid=pair-row][data-pair="long"]').getByTestId('video-tag')).toBeVisible();
  expect(await appState<number>(page, "Object.entries(s.videos).find(([id]) => s.pairs[id]?.name === 'long')[1].frames.length")).toBe(18_000);
  expect(await appState<string[]>(page, 's.log.map((l) => l.message)')).toContain('long_ir.webm: only the first 18000 frames are read (10 more left out)');

  // Videos whose aspect ratios differ are held, as image pairs are, until the person chooses.
  const square = page.locator('[data-testid=pair-row][data-pair="square"]');
  await expect(square).toHaveAttribute('data-status', 'held', { timeout: 60_000 });
  await expect(square).toContainText('aspect ratios differ');
  await square.getByRole('button', { name: 'Fuse square anyway (stretch)' }).click();
  await expect(square).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await row.click();
  const bar = page.getByTestId('video-bar');
  await expect(bar).toHaveAttribute('data-frames', '60');
  // The step and play buttons draw SVG icons, not font glyphs that a system font may lack.
  for (const [name, icon] of [['Previous frame', 'previous'], ['Next frame', 'next'], ['Play', 'play']] as const) {
    const button = bar.getByRole('button', { name });
    expect((await button.textContent())?.trim()).toBe(name === 'Play' ? 'Play' : '');
    const box = await button.locator(`svg[data-icon=${icon}]`).boundingBox();
    expect(box?.width).toBeGreaterThan(8);
  }

  // Step: each frame shown is fused, and frame 5's fused image is what the export must hold.
  const version = () => appState<number>(page, "Object.values(s.results).find((r) => r.runId === 'pretrained' && s.pairs[r.pairId]?.name === 'street').version");
  for (let i = 0; i < 5; i++) await page.getByRole('button', { name: 'Next frame' }).click();
  await expect(bar).toHaveAttribute('data-frame', '5');
  await expect.poll(async () => (await appState<{ status: string; stale: boolean }>(page, "Object.values(s.results).find((r) => r.runId === 'pretrained' && s.pairs[r.pairId]?.name === 'street')")).stale).toBe(false);
  await expect(row).toHaveAttribute('data-status', 'done');
  const shown = await canvasPixels(page, 'fused-canvas');

  // Play from frame 0: the live view ends with the video and shows at most every frame, never a queue.
  await page.getByLabel('Frame', { exact: true }).fill('0');
  await expect(row).toHaveAttribute('data-status', 'done');
  const v0 = await version();
  const t0 = Date.now();
  await page.getByRole('button', { name: 'Play' }).click();
  await expect(bar).toHaveAttribute('data-playing', 'true');
  await expect(bar).toHaveAttribute('data-playing', 'false', { timeout: 60_000 });
  const playedS = (Date.now() - t0) / 1000;
  const fusedWhilePlaying = (await version()) - v0;
  const live = await page.getByTestId('video-fps').getAttribute('data-live');
  const timings = await appState<unknown>(page, "Object.values(s.results).find((r) => r.runId === 'pretrained' && s.pairs[r.pairId]?.name === 'street').timings");
  testInfo.annotations.push({ type: 'live video', description: `2 s of video played in ${playedS.toFixed(1)} s; ${fusedWhilePlaying} of 60 frames fused and shown; ${live}; last result's timings ${JSON.stringify(timings)} (WASM, 96×72)` });
  expect(fusedWhilePlaying).toBeGreaterThan(2);
  // Newest wins: a frame not fused in time is skipped, so playing takes about the video's length.
  expect(fusedWhilePlaying).toBeLessThanOrEqual(60);
  expect(playedS).toBeLessThan(2 + 3);

  // Export without overlays: every paired frame, in order, each the pipeline's fused frame.
  await page.getByLabel('overlays').uncheck();
  const downloads: Promise<import('@playwright/test').Download>[] = [page.waitForEvent('download'), page.waitForEvent('download', (d) => d.suggestedFilename().endsWith('.json'))];
  await page.getByRole('button', { name: /Export video/ }).click();
  const [webm, json] = await Promise.all(downloads);
  expect(webm.suggestedFilename()).toBe('street_pretrained.webm');
  const exported = readFileSync(await webm.path());
  const back = await readVideo(page, exported, 5);
  expect(back.frames).toBe(60);
  expect([back.width, back.height]).toEqual([shown.width, shown.height]);
  let sum = 0, worst = 0;
  for (let i = 0; i < back.rgba.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      const d = Math.abs(back.rgba[i + c] - shown.rgba[i + c]);
      sum += d;
      worst = Math.max(worst, d);
    }
  }
  const mean = sum / (3 * back.rgba.length / 4);
  const det = JSON.parse(readFileSync(await json.path(), 'utf8')) as { codec: string; frames: number; detections: { frame: number }[] };
  testInfo.annotations.push({ type: 'export vs pipeline (frame 5)', description: `${det.codec}: mean |Δ| ${mean.toFixed(2)} levels, max ${worst}, ${exported.length} bytes` });
  // The exact export is lossless VP9 on the frame's RGB planes.
  expect(det.codec).toBe('VP9 lossless RGB');
  expect(worst).toBeLessThanOrEqual(1);
  expect(det.frames).toBe(60);
  expect(det.detections.map((d) => d.frame)).toEqual(Array.from({ length: 60 }, (_, i) => i));
  await keepScreenshot(page, testInfo, 'video');

  // Fine-tune on the video alone: 4 frames spread over it, unlabelled, so pseudo-labels from S.
  await page.getByRole('tab', { name: /^Fine-tune/ }).click();
  for (const box of await page.getByLabel(/^train on /).all()) {
    if ((await box.getAttribute('aria-label')) !== 'train on street') await box.uncheck();
  }
  await expect(page.getByLabel('train on street')).toBeChecked();
  await page.getByTestId('video-frames').fill('4');
  await page.getByLabel('Steps', { exact: true }).fill('2');
  await page.getByLabel('Batch', { exact: true }).fill('2');
  await page.getByLabel('Crop', { exact: true }).fill('64');
  await expect(page.getByTestId('label-source-hint')).toContainText('4 pair(s) or video frames have no label');
  const runsBefore = await appState<number>(page, 'Object.keys(s.runs).length');
  await page.getByRole('button', { name: 'Start fine-tune' }).click();
  await expect(page.getByTestId('train-progress')).not.toHaveAttribute('data-status', 'idle', { timeout: 10_000 });
  await expect(page.getByTestId('train-progress')).toHaveAttribute('data-status', 'idle', { timeout: 180_000 });
  await expect(page.getByTestId('train-error')).toHaveCount(0);
  await expect(page.getByTestId('label-sources')).toContainText('4 from pseudo-labels');
  expect(await appState<number>(page, 'Object.keys(s.runs).length')).toBe(runsBefore + 1);
  const trainedOn = await appState<string[]>(page, 's.runs[s.training.lastRunId].pairNames');
  expect(trainedOn).toEqual(['street frame 7', 'street frame 22', 'street frame 37', 'street frame 52']);

  // The run's F on the video, as on images: the viewer's swipe shows it, and each frame shown is fused by it too.
  const runId = await appState<string>(page, 's.training.lastRunId');
  const runResult = () => appState<{ status: string; stale: boolean; version: number }>(page, `Object.values(s.results).find((r) => r.runId === '${runId}' && s.pairs[r.pairId]?.name === 'street')`);
  await page.getByRole('radiogroup', { name: 'View mode' }).getByRole('radio', { name: 'Swipe' }).click();
  await page.getByRole('radiogroup', { name: 'Left image' }).getByRole('radio', { name: 'Fused' }).click();
  await page.getByLabel('Right run').selectOption(runId);
  await expect.poll(async () => { const r = await runResult(); return r?.status === 'done' && !r.stale; }, { timeout: 60_000 }).toBe(true);
  const runVersion = (await runResult()).version;
  await page.getByRole('button', { name: 'Previous frame' }).click();
  await expect.poll(async () => { const r = await runResult(); return r.version > runVersion && r.status === 'done' && !r.stale; }, { timeout: 60_000 }).toBe(true);
  await expect(page.locator('.viewer .stage-caption.right')).toHaveText(/^Run: /);

  // Export with the run's F, compact: every frame, VP9.
  await page.getByLabel('Export run').selectOption(runId);
  await page.getByLabel('Export quality').selectOption('compact');
  const runDownloads = [page.waitForEvent('download'), page.waitForEvent('download', (d) => d.suggestedFilename().endsWith('.json'))];
  await page.getByRole('button', { name: /Export video/ }).click();
  const [runWebm, runJson] = await Promise.all(runDownloads);
  // The run "#1 fixed int 1 : grad 10", in a file name.
  expect(runWebm.suggestedFilename()).toBe('street_1_fixed_int_1_grad_10.webm');
  expect((await readVideo(page, readFileSync(await runWebm.path()), 0)).frames).toBe(60);
  expect((JSON.parse(readFileSync(await runJson.path(), 'utf8')) as { codec: string }).codec).toBe('VP9');
});
