import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { useBackend } from './node-backend';
import { loadModelFolderInto, saveModelFolder } from './weights-fs';
import { main } from './average-weights';
import { MODELS } from '../core/models/registry';
import { disposeParams } from '../core/models/model-def';

let dir: string;
beforeAll(async () => {
  await useBackend('cpu');
  dir = await mkdtemp(path.join(tmpdir(), 'average-weights-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('npm run average-weights', () => {
  it('writes the mean of two model folders with a card naming both', async () => {
    const d = MODELS.discriminator;
    const a = d.init(1);
    const b = d.init(2);
    await saveModelFolder(path.join(dir, 'a'), a, { card: { name: 'discriminator', training: { seed: 1 } } });
    await saveModelFolder(path.join(dir, 'b'), b, { card: { name: 'discriminator', training: { seed: 2 } } });
    const out = path.join(dir, 'soup');
    expect(await main(['--model', 'discriminator', '--from', path.join(dir, 'a'), '--from', path.join(dir, 'b'), '--out', out])).toBe(0);
    const mean = d.init(0);
    await loadModelFolderInto(out, mean);
    for (const name of Object.keys(mean)) {
      const [x, y, m] = await Promise.all([a[name].data(), b[name].data(), mean[name].data()]);
      for (let i = 0; i < m.length; i++) expect(m[i]).toBeCloseTo((x[i] + y[i]) / 2, 6);
    }
    const card = JSON.parse(await readFile(path.join(out, 'card.json'), 'utf8'));
    expect(card.averagedFrom).toEqual([
      { dir: path.join(dir, 'a'), training: { seed: 1 } },
      { dir: path.join(dir, 'b'), training: { seed: 2 } },
    ]);
    [a, b, mean].forEach(disposeParams);
  });

  it('says what is wrong: a usage error is 2, an unreadable folder 1', async () => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(await main(['--model', 'discriminator', '--from', path.join(dir, 'a'), '--out', path.join(dir, 'x')])).toBe(2);
    expect(await main(['--model', 'nope', '--from', 'a', '--from', 'b', '--out', 'x'])).toBe(2);
    expect(await main(['--model', 'discriminator', '--from', path.join(dir, 'a'), '--from', path.join(dir, 'missing'), '--out', path.join(dir, 'x')])).toBe(1);
    expect(err.mock.calls.flat().join('\n')).toMatch(/at least two --from[\s\S]*--model must be one of[\s\S]*missing[\\/]model\.json: cannot read/);
    err.mockRestore();
  });
});
