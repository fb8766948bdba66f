/**
 * Offline once loaded: after the first visit the app, its WASM files, the
 * weights and the samples come from the service worker's precache, so a reload with the
 * network off still fuses; the app is installable (a web app manifest with icons); and each
 * weights file is precached under its content hash, so new weights replace the cached ones.
 */
import { expect, test } from '@playwright/test';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './fixtures';
import { logBrowserErrors, openApp, SAMPLE_NAMES, waitForFused, waitForReady } from './helpers';

test.use({ serviceWorkers: 'allow' });

test('after one visit the app loads and fuses offline, is installable, and caches weights by content', async ({ page, context }) => {
  test.setTimeout(300_000);
  const errors = logBrowserErrors(page);
  await openApp(page, 'wasm');
  await waitForReady(page);
  await waitForFused(page, SAMPLE_NAMES.length);
  await expect(page.getByTestId('offline-badge')).toBeVisible({ timeout: 120_000 });

  // Installable: a manifest with a name, a start URL and 192/512 px icons that load.
  const manifest = await page.evaluate(async () => {
    const link = document.querySelector<HTMLLinkElement>('link[rel=manifest]');
    return link ? (await fetch(link.href)).json() as Promise<{ name: string; start_url: string; display: string; icons: { src: string; sizes: string }[] }> : null;
  });
  expect(manifest).toMatchObject({ name: 'Fusion Playground', start_url: './', display: 'standalone' });
  expect(manifest!.icons.map((i) => i.sizes)).toEqual(['192x192', '512x512']);
  for (const icon of manifest!.icons) expect((await page.request.get(icon.src)).ok()).toBe(true);

  // Each weights file is precached with its content hash as its revision.
  const sw = await (await page.request.get('sw.js')).text();
  for (const model of ['fusion', 'segdet']) {
    const md5 = createHash('md5').update(readFileSync(join(REPO, 'models', model, 'weights.bin'))).digest('hex');
    expect(sw).toContain(`{url:"models/${model}/weights.bin",revision:"${md5}"}`);
  }
  // The published networks' weights are fetched when first compared, not at install.
  expect(sw).not.toMatch(/url:"models\/peer-/);

  await context.setOffline(true);
  await page.reload();
  const backend = await waitForReady(page);
  expect(backend).toBe('wasm');
  await waitForFused(page, SAMPLE_NAMES.length);
  await expect(page.getByTestId('backend-badge')).toContainText('thr');
  expect(errors.filter((e) => !/Failed to load resource/.test(e)), errors.join('\n')).toEqual([]);
});
