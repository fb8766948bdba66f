/**
 * A shared run file cannot break the page. In one page: a good run is imported, then a file
 * with a wrong-typed field, a 5,000,000-entry loss history (261 MB), a 100,000-entry one and
 * a 10,000-character name, together. The page says what it did with each, keeps every main-thread
 * task under 500 ms, and after a reload renders, lists a damaged stored record apart (with
 * Remove and Export as is), and still fuses the earlier run. A render error in one run's row
 * stays in that row.
 */
import { expect, test } from '@playwright/test';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { encodeRunFile } from '../src/ui/run-file';
import type { RunRecord } from '../src/ui/store/lab';
import { appState, longTasks, openApp, openTab, recordLongTasks, SAMPLE_NAMES, UNTRACED, waitForFused, waitForReady } from './helpers';

test.use(UNTRACED);

const MAX_TASK_MS = 500;
const fusion = {
  modelJson: JSON.parse(readFileSync('models/fusion/model.json', 'utf8')) as Record<string, unknown>,
  weightData: new Uint8Array(readFileSync('models/fusion/weights.bin')).buffer,
};
const record = (name: string, extra: Partial<RunRecord> = {}): RunRecord => ({
  id: 'shared', name, spec: { strategy: 'fixed', options: { lr: 1e-4 }, steps: 3, batch: 1, crop: 64, seed: 1, heldOutFraction: 0.2 }, steps: 3,
  history: [{ step: 1, total: 1, terms: { fusion: 1 } }], notes: [], labelSources: {}, pairNames: ['00233D'], models: ['fusion'],
  createdAt: 1, seconds: 1, backend: 'wasm', stopped: false, origin: 'trained', scores: {}, ...extra,
});

/** A run file whose history has `n` entries, written in pieces (261 MB for five million). */
async function longHistoryFile(path: string, n: number): Promise<void> {
  const [head, tail] = JSON.stringify({ format: 'fusion-playground-run', version: 1, run: record(`${n} steps`, { history: [] }),
    models: { fusion: { modelJson: fusion.modelJson, offset: 0, length: fusion.weightData.byteLength } } }).split('"history":[]');
  const parts = [`${head}"history":[`];
  const chunk: string[] = [];
  for (let i = 0; i < n; i++) {
    chunk.push(`${i ? ',' : ''}{"step":${i + 1},"total":${(1 + Math.sin(i / 1000)).toFixed(4)},"terms":{"fusion":0.5}}`);
    if (chunk.length === 100_000) parts.push(chunk.splice(0).join(''));
  }
  parts.push(chunk.join(''), `]${tail}`);
  const headerBytes = parts.reduce((a, p) => a + Buffer.byteLength(p), 0);
  const out = createWriteStream(path);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(headerBytes);
  out.write('FPRUN1\n');
  out.write(len);
  for (const p of parts) out.write(p);
  out.write(Buffer.from(fusion.weightData));
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

test('hostile run files are refused or bounded, the page stays usable, a damaged stored record is listed apart', async ({ page }, testInfo) => {
  test.setTimeout(300_000);
  const file = (name: string) => testInfo.outputPath(name);
  const write = (name: string, run: unknown) => {
    writeFileSync(file(name), encodeRunFile(run as RunRecord, { fusion }));
    return file(name);
  };
  const good = write('good.fprun', record('earlier run'));
  const wrongType = write('wrong-type.fprun', { ...record('wrong type'), history: 5 });
  const longName = write('long-name.fprun', record('n'.repeat(10_000)));
  await longHistoryFile(file('huge-history.fprun'), 5_000_000);
  await longHistoryFile(file('long-history.fprun'), 100_000);

  await recordLongTasks(page);
  await openApp(page, 'wasm');
  await waitForReady(page);
  await waitForFused(page, SAMPLE_NAMES.length);
  await openTab(page, /^Runs & compare/);
  const input = page.getByTestId('run-import-input');
  await input.setInputFiles(good);
  await expect(page.getByTestId('import-message')).toContainText('Imported as "earlier run (imported)"');

  await input.setInputFiles([wrongType, file('huge-history.fprun'), file('long-history.fprun'), longName]);
  const message = page.getByTestId('import-message');
  await expect(message).toContainText('Import failed: wrong-type.fprun: run.history: expected a list of loss points (got 5)', { timeout: 60_000 });
  await expect(message).toContainText(/Import failed: huge-history\.fprun: the file is 2\d\d MB, over the 64 MB a run file may be/);
  await expect(message).toContainText('Imported as "100000 steps (imported)"');
  const runs = await appState<{ name: string; history: number }[]>(page, 'Object.values(s.runs).map((r) => ({ name: r.name, history: r.history.length }))');
  expect(runs).toHaveLength(3);
  expect(runs.find((r) => r.name.startsWith('100000'))!.history).toBeLessThanOrEqual(4000);
  const cut = runs.find((r) => r.name.startsWith('nnn'))!;
  expect(cut.name).toHaveLength(200);
  // The long name stays on one line within the list.
  const panel = await page.locator('.runs-list').boundingBox();
  for (const row of await page.getByTestId('run-row').all()) {
    const box = (await row.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(panel!.x + panel!.width + 1);
  }
  expect((await longTasks(page)).filter((t) => t.duration > MAX_TASK_MS)).toEqual([]);

  // A record an older version (or a broken disk) left: stored as is, behind the app's back.
  const { scores: _scores, ...stored } = record('left by an older version', { id: 'run-damaged', history: 5 as never });
  await page.evaluate((damagedRecord) => new Promise<void>((resolve, reject) => {
    const req = indexedDB.open('fusion-playground');
    req.onsuccess = () => {
      const tx = req.result.transaction('runs', 'readwrite');
      tx.objectStore('runs').put(damagedRecord);
      tx.oncomplete = () => { req.result.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
    req.onerror = () => reject(req.error);
  }), stored);

  await page.reload();
  await waitForReady(page);
  await waitForFused(page, SAMPLE_NAMES.length);
  await openTab(page, /^Runs & compare/);
  await expect(page.getByTestId('run-row')).toHaveCount(3);
  const damaged = page.getByTestId('damaged-run');
  await expect(damaged).toHaveCount(1);
  await expect(damaged).toContainText('run.history: expected a list of loss points (got 5)');
  const download = page.waitForEvent('download');
  await damaged.getByRole('button', { name: 'Export as is' }).click();
  expect((await download).suggestedFilename()).toBe('damaged-run-damaged.json');
  await damaged.getByRole('button', { name: /remove damaged run/ }).click();
  await expect(damaged).toHaveCount(0);

  // The earlier run still fuses.
  const earlier = (await page.locator('[data-testid=run-row][data-name="earlier run (imported)"]').getAttribute('data-run'))!;
  const row = page.locator(`[data-testid=run-row][data-run="${earlier}"]`);
  if (!(await row.getByRole('checkbox').isChecked())) await row.getByRole('checkbox').check();
  await expect(page.locator(`[data-testid=run-canvas][data-run="${earlier}"][data-ready=true]`)).toHaveCount(1, { timeout: 120_000 });
  expect((await longTasks(page)).filter((t) => t.duration > MAX_TASK_MS)).toEqual([]);

  // Past every check, a record that still breaks its row breaks only that row.
  await page.evaluate(() => {
    const s = (window as unknown as { __fusionPlayground: { store: { getState(): { runs: Record<string, unknown>; putRun(r: unknown): void } } } }).__fusionPlayground.store.getState();
    const r = Object.values(s.runs)[0] as Record<string, unknown>;
    s.putRun({ ...r, id: 'run-broken', name: 'broken in memory', history: 5 });
  });
  const error = page.getByTestId('panel-error');
  await expect(error).toHaveCount(1);
  await expect(error).toContainText('Run “broken in memory” could not be shown');
  await expect(page.getByTestId('run-row')).toHaveCount(3);
  await error.getByRole('button', { name: /Remove run “broken in memory”/ }).click();
  await expect(error).toHaveCount(0);
  await expect(page.getByTestId('run-row')).toHaveCount(3);
});
