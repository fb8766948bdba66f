/**
 * `npm run rank -- --run NAME=DIR --run NAME=DIR ... [--resamples N] [--out DIR]`: methods side by
 * side on one set of pairs, from the `evaluations.json` that `fuse` and `score` write. Per method,
 * the nine fusion metrics, mIoU and mAP@0.5 over the set with 95 % bootstrap intervals over pairs
 * (the same arithmetic as the page's set table), each column ranked (1 = best; every column is
 * higher-is-better), rows ordered by mean rank. Writes `ranking.md` and `ranking.json`.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { numberOption, readCommandLine } from './args';
import { EVALUATIONS_FILE } from './fuse-report';
import { evaluationsFromJson, SET_SCORE_NAMES, setScoreIntervals, type PairEvaluation, type SetScoreName } from '../core/metrics/evaluation';
import type { Interval } from '../core/metrics/bootstrap';

const USAGE = `usage: npm run rank -- --run NAME=DIR [--run NAME=DIR ...] [--resamples N] [--out DIR]
  DIR: a fuse or score output folder (its ${EVALUATIONS_FILE}). Every method is scored on the pairs all of them have.`;

export interface RankRow {
  name: string;
  dir: string;
  scores: Record<SetScoreName, Interval>;
  ranks: Record<SetScoreName, number>;
  meanRank: number;
}

/** A value as the tables print it: mIoU in %, the rest as numbers. */
export function formatValue(name: SetScoreName, v: number): string {
  if (!Number.isFinite(v)) return '—';
  if (name === 'mIoU') return `${(100 * v).toFixed(1)} %`;
  return v.toFixed(name === 'SD' || name === 'EN' ? 2 : 3);
}

/** Ranks and intervals of methods evaluated on the same pairs (by stem; pairs not all have are left out). */
export function rankMethods(methods: { name: string; dir: string; evals: PairEvaluation[] }[], resamples = 1000): { rows: RankRow[]; pairs: number; leftOut: string[] } {
  const common = methods.map((m) => new Set(m.evals.map((e) => e.stem))).reduce((a, b) => new Set([...a].filter((s) => b.has(s))));
  const leftOut = [...new Set(methods.flatMap((m) => m.evals.map((e) => e.stem)))].filter((s) => !common.has(s)).sort();
  const scored = methods.map((m) => {
    const evals = m.evals.filter((e) => common.has(e.stem)).sort((a, b) => a.stem.localeCompare(b.stem));
    return { ...m, scores: setScoreIntervals(evals, { resamples, seed: 1 }) };
  });
  const rows: RankRow[] = scored.map((m) => {
    const ranks = Object.fromEntries(SET_SCORE_NAMES.map((n) => {
      const v = m.scores[n].value;
      return [n, Number.isFinite(v) ? 1 + scored.filter((o) => o.scores[n].value > v).length : NaN];
    })) as Record<SetScoreName, number>;
    const finite = SET_SCORE_NAMES.map((n) => ranks[n]).filter(Number.isFinite);
    return { name: m.name, dir: m.dir, scores: m.scores, ranks, meanRank: finite.reduce((a, b) => a + b, 0) / finite.length };
  });
  rows.sort((a, b) => a.meanRank - b.meanRank);
  return { rows, pairs: common.size, leftOut };
}

/** The ranking as a Markdown table: value, interval below it, rank in brackets; the best of each column bold. */
export function rankingMarkdown(rows: RankRow[], pairs: number): string {
  const head = `| method (${pairs} pairs) | mean rank | ${SET_SCORE_NAMES.join(' | ')} |`;
  const rule = `|---|---:|${SET_SCORE_NAMES.map(() => '---:').join('|')}|`;
  const body = rows.map((r) => `| ${r.name} | ${r.meanRank.toFixed(1)} | ${SET_SCORE_NAMES.map((n) => {
    const x = r.scores[n];
    if (!Number.isFinite(x.value)) return '—';
    const v = formatValue(n, x.value);
    return `${r.ranks[n] === 1 ? `**${v}**` : v} (${r.ranks[n]})<br>[${formatValue(n, x.lo)}, ${formatValue(n, x.hi)}]`;
  }).join(' | ')} |`);
  return [head, rule, ...body].join('\n') + '\n';
}

export async function main(argv: string[]): Promise<number> {
  const o = readCommandLine(argv, { run: { type: 'string', multiple: true }, resamples: { type: 'string' }, out: { type: 'string' } }, USAGE, (v) => {
    const runs = (v.run ?? []).map((r) => {
      const k = r.indexOf('=');
      if (k <= 0 || k === r.length - 1) throw new Error(`--run takes NAME=DIR, got ${r}`);
      return { name: r.slice(0, k), dir: r.slice(k + 1) };
    });
    if (runs.length < 1) throw new Error(`give at least one --run\n${USAGE}`);
    return { runs, resamples: numberOption(v.resamples, 'resamples', { int: true, min: 10 }) ?? 1000, out: v.out };
  });
  if (!o) return argv.includes('--help') || argv.includes('-h') ? 0 : 2;
  try {
    const methods = [];
    for (const r of o.runs) {
      const file = path.join(r.dir, EVALUATIONS_FILE);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch {
        throw new Error(`${file}: cannot read (run fuse or score into ${r.dir} first)`);
      }
      methods.push({ ...r, evals: evaluationsFromJson(JSON.parse(text)) });
    }
    const { rows, pairs, leftOut } = rankMethods(methods, o.resamples);
    if (leftOut.length) console.log(`left out, not evaluated by every method: ${leftOut.join(', ')}`);
    const md = rankingMarkdown(rows, pairs);
    console.log(md);
    if (o.out) {
      await mkdir(o.out, { recursive: true });
      await writeFile(path.join(o.out, 'ranking.md'), md);
      await writeFile(path.join(o.out, 'ranking.json'), JSON.stringify({ pairs, leftOut, resamples: o.resamples, rows }, null, 1) + '\n');
    }
    return 0;
  } catch (e) {
    console.error(`rank: ${(e as Error).message}`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
