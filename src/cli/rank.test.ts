import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main, rankingMarkdown, rankMethods } from './rank';
import { EVALUATIONS_FILE } from './fuse-report';
import { evaluationsToJson, type PairEvaluation } from '../core/metrics/evaluation';
import { FUSION_METRIC_NAMES, type FusionMetrics } from '../core/types';

/** A method whose every metric is `base` plus a little per pair. */
function method(base: number, stems: string[]): PairEvaluation[] {
  return stems.map((stem, i) => ({
    stem, confusion: null, detection: null,
    metrics: Object.fromEntries(FUSION_METRIC_NAMES.map((n) => [n, base + 0.01 * i])) as unknown as FusionMetrics,
  }));
}

describe('rank', () => {
  const stems = ['a', 'b', 'c', 'd'];

  it('ranks each column, orders by mean rank, scores only the pairs every method has', () => {
    const { rows, pairs, leftOut } = rankMethods([
      { name: 'low', dir: 'x', evals: method(1, stems) },
      { name: 'high', dir: 'y', evals: method(2, [...stems, 'e']) },
    ], 200);
    expect(pairs).toBe(4);
    expect(leftOut).toEqual(['e']);
    expect(rows.map((r) => r.name)).toEqual(['high', 'low']);
    expect(rows[0].ranks.EN).toBe(1);
    expect(rows[1].ranks.VIF).toBe(2);
    expect(rows[0].scores.EN.value).toBeCloseTo(2.015, 6);
    expect(rows[0].scores.EN.lo).toBeLessThanOrEqual(rows[0].scores.EN.value);
    expect(Number.isNaN(rows[0].ranks.mIoU)).toBe(true);
    const md = rankingMarkdown(rows, pairs);
    expect(md).toContain('| high | 1.0 | **2.01** (1)<br>[2.00, 2.02]');
    expect(md.split('\n')[0]).toContain('mIoU | mAP50');
  });

  it('reads fuse/score folders and writes ranking.md and ranking.json; a folder without evaluations is named', async () => {
    const tmp = await mkdtemp(path.join(tmpdir(), 'rank-'));
    try {
      for (const [d, base] of [['one', 1], ['two', 3]] as const) {
        await rm(path.join(tmp, d), { recursive: true, force: true });
        await (await import('node:fs/promises')).mkdir(path.join(tmp, d));
        await writeFile(path.join(tmp, d, EVALUATIONS_FILE), JSON.stringify(evaluationsToJson(method(base, stems))));
      }
      const out = path.join(tmp, 'out');
      expect(await main(['--run', `One=${path.join(tmp, 'one')}`, '--run', `Two=${path.join(tmp, 'two')}`, '--resamples', '50', '--out', out])).toBe(0);
      const json = JSON.parse(await readFile(path.join(out, 'ranking.json'), 'utf8'));
      expect(json.rows.map((r: { name: string }) => r.name)).toEqual(['Two', 'One']);
      expect(await readFile(path.join(out, 'ranking.md'), 'utf8')).toContain('| Two |');
      expect(await main(['--run', `None=${path.join(tmp, 'missing')}`])).toBe(1);
      expect(await main(['--run', 'no-equals-sign'])).toBe(2);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
