/**
 * Timings for the README: page load to first overlay and per-pair inference
 * at 640×480 on WASM, and per-pair inference on WebGPU (a software adapter here, very slow).
 *
 * Opt-in, as it takes minutes on a software adapter:
 *   E2E_PERF=1 npx playwright test e2e/perf.spec.ts
 * Results: test-results/perf-*.json (also attached to the HTML report).
 */
import { expect, test } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { appState, longTasks, openApp, recordLongTasks, SAMPLE_NAMES, waitForFused, waitForReady, type Backend } from './helpers';

test.skip(!process.env.E2E_PERF, 'set E2E_PERF=1 to run the timing specs');

interface PerfState {
  firstOverlayMs?: number;
  warmupMs?: number;
  backend?: string;
  reason?: string;
  pairs: { name: string; status: string; pipeline?: number; decode?: number; w?: number; h?: number }[];
}

const PICK = `{ firstOverlayMs: s.worker.firstOverlayMs, warmupMs: s.worker.warmupMs, backend: s.worker.backend && s.worker.backend.name,
  reason: s.worker.backend && s.worker.backend.reason,
  pairs: s.order.map((id) => { const p = { ...s.results['pretrained|' + id], name: s.pairs[id].name }; return { name: p.name, status: p.status,
    pipeline: p.timings && p.timings.pipeline, decode: p.timings && p.timings.decode, w: p.size && p.size.width, h: p.size && p.size.height }; }) }`;

function summarise(backend: Backend, st: PerfState, extra: Record<string, unknown>) {
  const ms = st.pairs.map((p) => p.pipeline).filter((v): v is number => typeof v === 'number');
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    backend, reason: st.reason, chromium: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    firstOverlayMs: st.firstOverlayMs, warmupMs: st.warmupMs,
    perPairMs: st.pairs.map((p) => ({ name: p.name, size: `${p.w}x${p.h}`, pipeline: p.pipeline, decode: p.decode })),
    medianPipelineMs: sorted.length ? sorted[Math.floor(sorted.length / 2)] : null,
    ...extra,
  };
}

test('timings on WASM', async ({ page }, testInfo) => {
  await recordLongTasks(page);
  await openApp(page, 'wasm');
  await waitForReady(page);
  await waitForFused(page, SAMPLE_NAMES.length);
  const st = await appState<PerfState>(page, PICK);
  const tasks = await longTasks(page, 'worker-ready');
  const out = summarise('wasm', st, { longestMainThreadTaskMs: Math.max(0, ...tasks.map((t) => t.duration)) });
  const path = testInfo.outputPath('perf-wasm.json');
  writeFileSync(path, JSON.stringify(out, null, 2));
  await testInfo.attach('perf-wasm', { path, contentType: 'application/json' });
  console.log(JSON.stringify(out, null, 2));
  expect(out.medianPipelineMs).not.toBeNull();
});

test('timings on WebGPU (first sample only)', async ({ page }, testInfo) => {
  test.setTimeout(900_000);
  await openApp(page, 'webgpu');
  const backend = await waitForReady(page, 600_000);
  test.skip(backend !== 'webgpu', `WebGPU did not start here (${backend})`);
  await expect(page.locator('[data-testid=pair-row][data-status=done]').first()).toBeVisible({ timeout: 800_000 });
  const st = await appState<PerfState>(page, PICK);
  st.pairs = st.pairs.filter((p) => p.status === 'done');
  const out = summarise('webgpu', st, {});
  const path = testInfo.outputPath('perf-webgpu.json');
  writeFileSync(path, JSON.stringify(out, null, 2));
  await testInfo.attach('perf-webgpu', { path, contentType: 'application/json' });
  console.log(JSON.stringify(out, null, 2));
});
