import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAdaptKArgs, runAdaptK } from './adapt-k';
import { saveStandInModels } from './stand-in-models.test-helper';
import { useBackend } from './node-backend';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-fixtures/pairs');
let tmp: string;

beforeAll(async () => {
  await useBackend('wasm');
  tmp = await mkdtemp(path.join(tmpdir(), 'adapt-k-'));
  // Seeded stand-ins for the committed weights: this tests the plumbing, not the choice.
  await saveStandInModels(path.join(tmp, 'models'), 3, ['fusion', 'segdet']);
  const train = path.join(tmp, 'data', 'msrs', 'train');
  for (const k of ['ir', 'vi', 'label']) await cp(path.join(FIXTURES, k), path.join(train, k), { recursive: true });
  await cp(path.join(FIXTURES, 'detection.json'), path.join(train, 'detection.json'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('--choose-adapt-k', () => {
  it('adapts on one part of msrs/train, scores the held-out blocks for each K (0 = frozen S, the reference), and keeps the best K > 0', async () => {
    const o = parseAdaptKArgs(['--choose-adapt-k', '1,0', '--data', path.join(tmp, 'data'), '--models', path.join(tmp, 'models'), '--out', path.join(tmp, 'out'), '--held-out', '0.5'])!;
    expect(o.ks).toEqual([0, 1]);
    const lines: string[] = [];
    const { rows, chosen } = await runAdaptK({ ...o, log: (l) => lines.push(l) });
    expect(rows.map((r) => r.k)).toEqual([0, 1]);
    for (const r of rows) expect(Number.isFinite(r.mIoU)).toBe(true);
    // K = 0 (the frozen S) is the reference, never the choice.
    expect(chosen).toBe(1);
    const json = JSON.parse(await readFile(path.join(tmp, 'out', 'adapt-k.json'), 'utf8'));
    expect(json.adaptOn.length + json.heldOut.length).toBe(2);
    expect(json.adaptOn).not.toContain(json.heldOut[0]);
    expect(lines.at(-1)).toMatch(/^chosen: K = 1 /);
    expect(parseAdaptKArgs(['--choose-adapt-k', 'a,b'])).toBeNull();
  }, 120_000);
});
