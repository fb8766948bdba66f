/**
 * Two tabs of the app share their runs: a run made in one appears in the
 * other, a rename in one reaches the other and is not overwritten by the other's later writes
 * (its scores), and a run deleted in one goes from both.
 */
import { expect, test, type Page } from '@playwright/test';
import { stubSamples } from './fixtures';
import { appState, openApp, waitForFused, waitForReady } from './helpers';

async function open(page: Page): Promise<void> {
  await stubSamples(page, true);
  await openApp(page, 'wasm');
  await waitForReady(page);
  await waitForFused(page, 1);
}

const runsTab = (page: Page, n: number) => page.getByRole('tab', { name: new RegExp(`^Runs & compare \\(${n}\\)`) });

test('two tabs: a run made in one appears in the other, a rename is kept, a delete goes from both', async ({ context }) => {
  test.setTimeout(300_000);
  const a = await context.newPage();
  const b = await context.newPage();
  await open(a);
  await open(b);

  await a.getByRole('tab', { name: /^Fine-tune/ }).click();
  await a.getByLabel('Steps', { exact: true }).fill('2');
  await a.getByLabel('Batch', { exact: true }).fill('1');
  await a.getByLabel('Crop', { exact: true }).fill('32');
  await a.getByRole('button', { name: 'Start fine-tune' }).click();
  await expect(runsTab(a, 1)).toBeVisible({ timeout: 120_000 });
  await expect(runsTab(b, 1)).toBeVisible({ timeout: 10_000 });
  const id = await appState<string>(a, 'Object.keys(s.runs)[0]');
  expect(await appState<string[]>(b, 'Object.keys(s.runs)')).toEqual([id]);

  // Renamed in B; A records its scores on the pair afterwards: both are kept.
  await runsTab(b, 1).click();
  await b.getByTestId('run-row').getByRole('button', { name: 'Rename' }).click();
  await b.getByLabel('New run name').fill('renamed in B');
  await b.getByRole('button', { name: 'Save' }).click();
  await expect.poll(() => appState<string>(a, `s.runs['${id}'].name`), { timeout: 10_000 }).toBe('renamed in B');
  await runsTab(a, 1).click();
  await expect(a.locator('[data-testid=run-row][data-name="renamed in B"]')).toHaveCount(1);
  await expect.poll(() => appState<number>(a, `Object.keys(s.runs['${id}'].scores).length`), { timeout: 120_000 }).toBe(1);
  await b.reload();
  await waitForReady(b);
  await expect.poll(() => appState<string | null>(b, `s.runs['${id}']?.name ?? null`), { timeout: 30_000 }).toBe('renamed in B');
  expect(await appState<number>(b, `Object.keys(s.runs['${id}'].scores).length`)).toBe(1);
  await runsTab(b, 1).click();

  await b.getByRole('button', { name: 'delete renamed in B' }).click();
  await expect(runsTab(a, 0)).toBeVisible({ timeout: 10_000 });
  await expect(a.getByTestId('run-row')).toHaveCount(0);
});
