import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { HISTORY_MAX } from '../core/runs/record';
import { deleteRun, getRaw, getRun, listRuns, putScores, updateRun } from './runs-db';

const metrics = { EN: 6.6, SD: 40, SF: 10, AG: 3, MI: 4, SCD: 1.6, VIF: 1.1, Qabf: 0.7, SSIM: 0.97 };
const record = (id: string, extra: object = {}) => ({
  id, name: id, strategy: 'fixed', options: {}, seed: 1, steps: 10, batch: 2, crop: 64, lr: 1e-4, history: [], notes: [],
  labelSources: {}, pairNames: ['a'], models: ['fusion'], createdAt: id.length, seconds: 1, backend: 'wasm', stopped: false,
  origin: 'trained', ...extra,
});

/** A database as the app's first version left it: scores inside each record. */
async function writeVersion1(records: object[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const req = indexedDB.open('fusion-playground', 1);
    req.onupgradeneeded = () => {
      req.result.createObjectStore('runs', { keyPath: 'id' });
      req.result.createObjectStore('weights');
    };
    req.onsuccess = () => {
      const tx = req.result.transaction(['runs', 'weights'], 'readwrite');
      for (const r of records) {
        tx.objectStore('runs').put(r);
        tx.objectStore('weights').put({ fusion: { modelJson: {}, weightData: new ArrayBuffer(4) } }, (r as { id: string }).id);
      }
      tx.oncomplete = () => { req.result.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
    req.onerror = () => reject(req.error);
  });
}

describe('runs in IndexedDB', () => {
  it('migrates version 1 (scores out of the records, long histories bounded), and lists damaged records apart', async () => {
    const long = Array.from({ length: 20_000 }, (_, i) => ({ step: i + 1, total: Math.sin(i), terms: {} }));
    await writeVersion1([
      record('good', { scores: { a: { metrics, miou: 0.5 }, b: { metrics } }, history: long }),
      record('wrong-history', { history: 5, scores: { a: { metrics } } }),
      record('wrong-steps', { steps: { n: 3 } }),
    ]);
    const { runs, damaged } = await listRuns();
    expect(runs.map((r) => r.id)).toEqual(['good']);
    expect(runs[0].scores).toEqual({ a: { metrics, miou: 0.5 }, b: { metrics } });
    expect(runs[0].history.length).toBeLessThanOrEqual(HISTORY_MAX);
    expect(damaged).toEqual([
      { id: 'wrong-history', name: 'wrong-history', why: 'run.history: expected a list of loss points (got 5)' },
      { id: 'wrong-steps', name: 'wrong-steps', why: expect.stringMatching(/^run\.steps: expected a number/) },
    ]);
    // The stored record itself no longer holds scores, and its history was bounded in place.
    const raw = await getRaw('good');
    expect((raw.record as { scores?: unknown }).scores).toBeUndefined();
    expect((raw.record as { history: unknown[] }).history.length).toBeLessThanOrEqual(HISTORY_MAX);
    expect(raw.scores.map((e) => e.pair)).toEqual(['a', 'b']);
    // A damaged run's scores and weights stay, to be exported as they are.
    expect((await getRaw('wrong-history')).weights?.fusion).toBeDefined();
  });

  it('adds a score as one entry, renames without touching scores, and deletes a run with its scores', async () => {
    expect(await putScores('good', 'c', { metrics, map50: 0.7 })).toBe(true);
    expect(await putScores('not-stored', 'c', { metrics })).toBe(false);
    expect(await updateRun('good', (r) => ({ ...r, name: 'renamed' }))).toBe(true);
    const r = await getRun('good');
    expect(r && 'scores' in r && Object.keys(r.scores)).toEqual(['a', 'b', 'c']);
    expect(r && 'name' in r && r.name).toBe('renamed');
    await deleteRun('good');
    await deleteRun('wrong-history');
    expect(await getRun('good')).toBeUndefined();
    expect((await getRaw('good')).scores).toEqual([]);
    const { runs, damaged } = await listRuns();
    expect(runs).toEqual([]);
    expect(damaged.map((d) => d.id)).toEqual(['wrong-steps']);
  });
});
