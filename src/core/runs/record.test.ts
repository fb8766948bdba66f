import { describe, expect, it } from 'vitest';
import { appendHistory, boundHistory, boundNotes, HISTORY_MAX, NOTES_MAX, parseRunRecord, RUN_NAME_MAX, type LossPoint } from './record';

const point = (step: number, total: number): LossPoint => ({ step, total, terms: { fusion: total } });

describe('boundHistory', () => {
  it('keeps a history up to the bound as it is', () => {
    const h = Array.from({ length: HISTORY_MAX }, (_, i) => point(i + 1, 1 / (i + 1)));
    expect(boundHistory(h)).toBe(h);
  });

  it('thins a long history to the bound, in step order, keeping the ends, the spikes and the dips', () => {
    const n = 100_000;
    const h = Array.from({ length: n }, (_, i) => point(i + 1, 1 + Math.sin(i / 500)));
    h[31_337] = point(31_338, 50); // a spike
    h[77_777] = point(77_778, -3); // a dip
    h[50_000] = point(50_001, NaN); // a rolled-back step
    const b = boundHistory(h);
    expect(b.length).toBeLessThanOrEqual(HISTORY_MAX);
    expect(b.length).toBeGreaterThan(HISTORY_MAX * 0.9);
    expect(b[0]).toBe(h[0]);
    expect(b.at(-1)).toBe(h[n - 1]);
    for (let i = 1; i < b.length; i++) expect(b[i].step).toBeGreaterThan(b[i - 1].step);
    expect(b).toContain(h[31_337]);
    expect(b).toContain(h[77_777]);
    // Every stretch's range survives: the thinned curve spans the same values.
    const finite = (xs: LossPoint[]) => xs.map((p) => p.total).filter(Number.isFinite);
    expect(Math.max(...finite(b))).toBe(Math.max(...finite(h)));
    expect(Math.min(...finite(b))).toBe(Math.min(...finite(h)));
  });

  it('adding points past the bound thins the old ones to half and keeps the new at full resolution', () => {
    let h: LossPoint[] = [];
    for (let s = 1; s <= 3 * HISTORY_MAX; s++) h = appendHistory(h, [point(s, Math.cos(s))]);
    expect(h.length).toBeLessThanOrEqual(HISTORY_MAX);
    expect(h.at(-1)!.step).toBe(3 * HISTORY_MAX);
    expect(h.slice(-100).map((p) => p.step)).toEqual(Array.from({ length: 100 }, (_, i) => 3 * HISTORY_MAX - 99 + i));
  });
});

describe('parseRunRecord', () => {
  const base = {
    id: 'r', name: 'x', spec: { strategy: 'bdl', options: { lr: 1e-4 }, steps: 3, batch: 2, crop: 128, seed: 1, heldOutFraction: 0.2 }, steps: 3, history: [],
    notes: [], labelSources: {}, pairNames: [], models: ['fusion'], createdAt: 1, seconds: 1, backend: 'wasm', stopped: false, origin: 'trained',
  };

  it('bounds what a shared file may carry: the name, the notes, the history', () => {
    const r = parseRunRecord({
      ...base, name: 'n'.repeat(10_000), notes: Array.from({ length: 5000 }, (_, i) => `note ${i}`),
      history: Array.from({ length: 50_000 }, (_, i) => ({ step: i + 1, total: i % 7, terms: {} })),
    });
    expect(r.name).toHaveLength(RUN_NAME_MAX);
    expect(r.name.endsWith('…')).toBe(true);
    expect(r.notes).toHaveLength(NOTES_MAX);
    expect(r.notes.at(-1)).toBe(boundNotes(Array.from({ length: 5000 }, () => '')).at(-1));
    expect(r.history.length).toBeLessThanOrEqual(HISTORY_MAX);
    expect(r.scores).toEqual({});
  });

  it('names the field that is wrong', () => {
    expect(() => parseRunRecord({ ...base, history: 5 })).toThrow('run.history: expected a list of loss points (got 5)');
    expect(() => parseRunRecord({ ...base, steps: { n: 3 } })).toThrow(/^run\.steps: expected a number/);
    expect(() => parseRunRecord({ ...base, notes: 'abc' })).toThrow('run.notes: expected a list of notes');
    expect(() => parseRunRecord({ ...base, spec: { ...base.spec, strategy: 'sgd' } })).toThrow('run.spec.strategy: expected fixed, bdl, td');
    expect(() => parseRunRecord({ ...base, history: [{ step: 1, total: '1', terms: {} }] })).toThrow(/^run\.history\.0\.total/);
    expect(() => parseRunRecord(null)).toThrow(/^run: expected a run record/);
    const { seed: _seed, ...noSeed } = base.spec;
    expect(() => parseRunRecord({ ...base, spec: noSeed })).toThrow(/^run\.spec\.seed: missing$/);
  });
});
