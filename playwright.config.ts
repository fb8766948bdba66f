/**
 * Browser tests: Playwright Test driving Debian Chromium (`/usr/bin/chromium`, or
 * `CHROMIUM_PATH`) against `vite preview` of the built app (`npm run test:e2e` builds first).
 *
 * Chromium is started with flags that keep it off the network (docs/benchmarks.md), a fresh profile
 * per launch (Playwright's default), and XDG/TMP folders inside a throwaway `.tmp/e2e/`.
 * `--enable-unsafe-webgpu` gives a WebGPU adapter even without a GPU (SwiftShader): specs
 * force a backend with `?backend=wasm|webgpu` (see e2e/helpers.ts).
 */
import { defineConfig } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const scratch = resolve(root, '.tmp', 'e2e');
for (const d of ['config', 'cache', 'tmp']) mkdirSync(join(scratch, d), { recursive: true });
// Set here so that Playwright's own temp profile goes there too (workers inherit the env).
process.env.TMPDIR = join(scratch, 'tmp');

const port = Number(process.env.E2E_PORT ?? 4173);

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
];

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  outputDir: 'test-results',
  timeout: 180_000,
  expect: { timeout: 30_000 },
  // Two CPU cores: one browser at a time.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    baseURL: `http://127.0.0.1:${port}/`,
    viewport: { width: 1440, height: 900 },
    screenshot: 'on',
    trace: 'retain-on-failure',
    // The service worker (offline use) would serve precached files past page.route stubs: only
    // the offline spec lets it run.
    serviceWorkers: 'block',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
      env: {
        ...process.env,
        XDG_CONFIG_HOME: join(scratch, 'config'),
        XDG_CACHE_HOME: join(scratch, 'cache'),
        TMPDIR: join(scratch, 'tmp'),
      },
    },
  },
  projects: [{ name: 'chromium' }],
  webServer: {
    command: `npx vite preview --host 127.0.0.1 --port ${port} --strictPort`,
    url: `http://127.0.0.1:${port}/`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
