/**
 * Live video at 640×480 for the README (the bar: the live view's frames per second
 * against the pipeline's own rate, at most 10 % lost to decoding and the page).
 *
 * Opt-in, as it takes about a minute: `npm run test:e2e:perf` (E2E_PERF=1). A 20 s, 30 fps VP8
 * pair (key frame every 2 s) is encoded in the page from a bundled sample and played once.
 * Results: perf-video-wasm.json in the test's output folder (also attached to the HTML report).
 */
import { expect, test } from '@playwright/test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SAMPLES, stubSamples } from './fixtures';
import { appState, dropFiles, openApp, waitForFused, waitForReady } from './helpers';
import { makeVideo, serveMediabunny } from './video-helpers';
import { lostShare, type LiveStats } from '../src/ui/store/video';

test.skip(!process.env.E2E_PERF, 'set E2E_PERF=1 to run the timing specs');

test('live video at 640x480 on WASM', async ({ page }, testInfo) => {
  test.setTimeout(600_000);
  await serveMediabunny(page);
  await stubSamples(page, false);
  await openApp(page, 'wasm');
  await waitForReady(page);
  await waitForFused(page, 1);
  const frames = 600;
  const irVideo = await makeVideo(page, readFileSync(join(SAMPLES, 'ir', '00726N.png')), frames, 30, 640, 480);
  const viVideo = await makeVideo(page, readFileSync(join(SAMPLES, 'vi', '00726N.png')), frames, 30, 640, 480);
  await dropFiles(page, [
    { name: 'drive_ir.webm', bytes: irVideo, type: 'video/webm' },
    { name: 'drive_vi.webm', bytes: viVideo, type: 'video/webm' },
  ]);
  const row = page.locator('[data-testid=pair-row][data-pair="drive"]');
  await expect(row).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  await row.click();
  // Played from a paused frame that is scored, as a person would (the worker cannot interrupt metrics).
  await expect.poll(() => appState<string>(page, "Object.values(s.results).find((r) => r.runId === 'pretrained' && s.pairs[r.pairId]?.name === 'drive').scoresStatus"), { timeout: 60_000 }).toBe('done');
  const bar = page.getByTestId('video-bar');
  const t0 = Date.now();
  await page.getByRole('button', { name: 'Play' }).click();
  await expect(bar).toHaveAttribute('data-playing', 'true');
  await expect(bar).toHaveAttribute('data-playing', 'false', { timeout: 120_000 });
  const playedS = (Date.now() - t0) / 1000;
  const live = await appState<LiveStats>(page, 's.live');
  const backend = await appState<string>(page, 's.worker.backend.name');
  const result = {
    backend, size: '640x480', videoS: frames / 30, playedS, ...live, shownPerS: live.shown / playedS,
    pipelineFps: 1000 / live.pipelineMs,
    // As the video bar shows it.
    lostShare: lostShare(live),
  };
  const file = testInfo.outputPath('perf-video-wasm.json');
  writeFileSync(file, JSON.stringify(result, null, 2));
  await testInfo.attach('perf-video-wasm', { path: file, contentType: 'application/json' });
  console.log(JSON.stringify(result));
  expect(live.shown).toBeGreaterThan(1);
});
