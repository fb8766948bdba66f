/**
 * The README pictures, reproducibly: the app on WASM with the predicted segmentation overlay
 * (the default once `models/segdet` exists) and detection boxes,
 *  1. `docs/screenshot-msrs-night.png`: the bundled night sample with the most detection
 *     classes and boxes (or `E2E_SCREENSHOT_PAIR`);
 *  2. `docs/screenshot-roadscene.png`: a RoadScene pair from `../shared/data/eval` (outside
 *     MSRS, as a new user would drop one; `E2E_SCREENSHOT_EVAL` names another stem), dropped on
 *     the page. Skipped when `../shared/data` is absent.
 *
 * Opt-in, as it rewrites committed files:
 *   npx vite build && E2E_SCREENSHOT=1 npx playwright test e2e/screenshot.spec.ts
 */
import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Detection } from '../src/core/types';
import { REPO } from './fixtures';
import { appState, dropFiles, openApp, pairRow, SAMPLE_NAMES, selectPair, waitForFused, waitForReady } from './helpers';

test.skip(!process.env.E2E_SCREENSHOT, 'set E2E_SCREENSHOT=1 to rewrite the README pictures in docs/');

test.use({ viewport: { width: 1440, height: 860 } });

const EVAL = join(REPO, '..', 'shared', 'data', 'eval', 'roadscene');
const EVAL_PAIR = process.env.E2E_SCREENSHOT_EVAL ?? 'FLIR_06795'; // a street with parked cars

async function shoot(page: Page, testInfo: TestInfo, id: string, name: string, file: string): Promise<void> {
  await selectPair(page, name, id.startsWith('sample:') ? 'sample' : 'user');
  await expect(page.getByTestId('seg-canvas')).toBeVisible();
  await expect(page.getByTestId('box-layer')).toHaveAttribute('data-boxes', /^[1-9]/);
  // Metrics of the selected pair are in, so the panel is not half-filled.
  await expect.poll(() => appState<string>(page, `s.results['pretrained|${id}'].scoresStatus`), { timeout: 120_000 }).toBe('done');
  await page.mouse.move(0, 0);
  mkdirSync(join(REPO, 'docs'), { recursive: true });
  const path = join(REPO, 'docs', file);
  await page.screenshot({ path });
  await testInfo.attach(file, { path, contentType: 'image/png' });
}

test('README pictures: an MSRS night pair and a RoadScene pair with their overlays', async ({ page }, testInfo) => {
  test.setTimeout(300_000);
  await openApp(page, 'wasm');
  await waitForReady(page);
  await waitForFused(page, SAMPLE_NAMES.length);
  const st = await appState<{ source: string; segdet: boolean; threshold: number; dets: Record<string, Detection[]> }>(page,
    `{ source: s.settings.segSource, segdet: s.worker.models.some((m) => m.name === 'segdet' && m.loaded),
       threshold: s.settings.detThreshold,
       dets: Object.fromEntries(s.order.map((id) => [s.pairs[id].name, s.results['pretrained|' + id].detections])) }`);
  expect(st.segdet, 'the pictures show the trained segmenter: models/segdet must exist').toBe(true);
  expect(st.source).toBe('pred');

  // The night sample showing the most detection classes above the default threshold, then the
  // most boxes, then the higher total score.
  const score = (name: string) => {
    const shown = (st.dets[name] ?? []).filter((d) => d[5] >= st.threshold);
    return 1000 * new Set(shown.map((d) => d[4])).size + shown.length + shown.reduce((a, d) => a + d[5], 0) / 100;
  };
  const night = SAMPLE_NAMES.filter((n) => n.endsWith('N'));
  const best = process.env.E2E_SCREENSHOT_PAIR ?? [...night].sort((a, b) => score(b) - score(a))[0];
  await shoot(page, testInfo, `sample:${best}`, best, 'screenshot-msrs-night.png');
  testInfo.annotations.push({ type: 'msrs', description: `${best}: ${(st.dets[best] ?? []).filter((d) => d[5] >= st.threshold).length} boxes ≥ ${st.threshold}` });

  if (!existsSync(join(EVAL, 'ir', `${EVAL_PAIR}.jpg`))) {
    testInfo.annotations.push({ type: 'roadscene', description: `skipped: no ${EVAL} (../shared/data absent)` });
    return;
  }
  await dropFiles(page, (['ir', 'vi'] as const).map((m) => ({
    name: `${EVAL_PAIR}_${m}.jpg`, bytes: readFileSync(join(EVAL, m, `${EVAL_PAIR}.jpg`)), type: 'image/jpeg',
  })));
  await expect(pairRow(page, EVAL_PAIR, 'user')).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  const id = await appState<string>(page, `s.order.find((id) => s.pairs[id].name === '${EVAL_PAIR}')`);
  await shoot(page, testInfo, id, EVAL_PAIR, 'screenshot-roadscene.png');
  const dets = await appState<Detection[]>(page, `s.results['pretrained|${id}'].detections`);
  testInfo.annotations.push({ type: 'roadscene', description: `${EVAL_PAIR}: ${dets.filter((d) => d[5] >= st.threshold).length} boxes ≥ ${st.threshold}` });
});
