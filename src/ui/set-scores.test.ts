import { describe, expect, it } from 'vitest';
import type { Interval, SetScoreName } from '../protocol/messages';
import { bestPerColumn, cancelSet, pairsOf, paretoFront, requestSet, SET_COLUMNS, setProgress, setTableCsv, setTableLatex, type SetRow } from './set-scores';
import { newResult, PRETRAINED, resultKey, type ResultState } from './store/results';
import type { PairState } from './store/store';

const pair = (id: string, o: Partial<PairState> = {}): PairState => ({ id, name: id, origin: 'sample', paths: { ir: '', vi: '' }, ...o });
const pairs = {
  a: pair('a', { time: 'day', paths: { ir: '', vi: '', label: 'a.png' } }),
  b: pair('b', { time: 'night' }),
  c: pair('c01N', { origin: 'user' }),
};
const order = ['a', 'b', 'c'];
const iv = (value: number): Interval => ({ value, lo: value - 0.1, hi: value + 0.1 });
const row = (runId: string, f: (c: SetScoreName) => number): SetRow => ({
  runId, name: runId, strategy: 'fixed', pairs: 3, scores: Object.fromEntries(SET_COLUMNS.map((c) => [c, iv(f(c))])) as SetRow['scores'],
});

describe('set of pairs', () => {
  it('picks subsets by time (or MSRS name suffix), label and origin', () => {
    expect(pairsOf({ order, pairs }, 'all')).toEqual(['a', 'b', 'c']);
    expect(pairsOf({ order, pairs }, 'day')).toEqual(['a']);
    expect(pairsOf({ order, pairs }, 'night')).toEqual(['b', 'c']);
    expect(pairsOf({ order, pairs }, 'labelled')).toEqual(['a']);
    expect(pairsOf({ order, pairs }, 'imported')).toEqual(['c']);
  });

  it('asks only for results without scores, counts progress, and cancels what is still waiting', () => {
    const scored = (run: string, p: string, o: Partial<ResultState> = {}): ResultState =>
      ({ ...newResult(run, p), status: 'done', scoresStatus: 'done', evaluation: { stem: p, metrics: null, confusion: null, detection: null }, ...o });
    const results: Record<string, ResultState> = {
      [resultKey(PRETRAINED, 'a')]: scored(PRETRAINED, 'a', { evicted: true }),
      [resultKey(PRETRAINED, 'b')]: { ...newResult(PRETRAINED, 'b'), status: 'error' },
      [resultKey('r1', 'a')]: newResult('r1', 'a'),
    };
    const asked: string[] = [];
    requestSet({ results, requestResults: (keys) => asked.push(...keys.map((k) => resultKey(k.runId, k.pairId))) }, [PRETRAINED, 'r1'], ['a', 'b']);
    // The scored result is not fused again though its images were evicted.
    expect(asked).toEqual([resultKey(PRETRAINED, 'b'), resultKey('r1', 'a'), resultKey('r1', 'b')]);
    expect(setProgress({ results }, [PRETRAINED, 'r1'], ['a', 'b'])).toEqual({ scored: 1, failed: 1, total: 4 });
    let dropped: string[] = [];
    cancelSet({ results, dropResults: (k) => { dropped = k; } }, [PRETRAINED, 'r1'], ['a', 'b']);
    expect(dropped).toEqual([resultKey('r1', 'a')]);
  });

  it('marks the best of each column, in bold in LaTeX, with intervals in the CSV', () => {
    const rows = [row('run_1', (c) => (c === 'VIF' ? 1.2 : 0.5)), row('run&2', (c) => (c === 'VIF' ? 1.1 : c === 'mIoU' ? 0.6 : 0.5))];
    const best = bestPerColumn(rows);
    expect(best).toEqual({ VIF: 1.2, mIoU: 0.6 });
    const tex = setTableLatex(rows, 'two runs');
    expect(tex).toContain('\\begin{tabular}{lrrrrrrrrrrr}');
    expect(tex).toContain('run\\_1 & 0.500 & 0.500 & 0.500 & 0.500 & 0.500 & 0.500 & \\textbf{1.200} & 0.500 & 0.500 & 50.0 & 50.0 \\\\');
    expect(tex).toContain('run\\&2 &');
    expect(tex).toContain('\\textbf{60.0}');
    const csv = setTableCsv(rows).trim().split('\n');
    expect(csv[0].split(',').slice(0, 6)).toEqual(['run', 'strategy', 'pairs', 'EN', 'EN_lo', 'EN_hi']);
    expect(csv[1].split(',').slice(0, 6)).toEqual(['run_1', 'fixed', '3', '0.5', '0.4', '0.6']);
    expect(csv).toHaveLength(3);
  });

  it('draws the Pareto front through the points nothing beats on both axes', () => {
    const p = (runId: string, x: number, y: number) => ({ runId, x, y });
    const pts = [p('a', 1, 5), p('b', 2, 4), p('c', 1.5, 3), p('d', 3, 1), p('e', 2, 4), p('f', 0.5, 5)];
    // c is beaten by b; f by a (same y, larger x); b and e tie and both stay.
    expect(paretoFront(pts).map((q) => q.runId)).toEqual(['a', 'b', 'e', 'd']);
  });
});
