/**
 * The compared runs on a set of pairs: choose the set, score it (each run's result on each pair
 * is fused and scored once, in the background, with progress; cancellable), then the set-level
 * table with 95 % intervals, best per column marked, and its exports.
 */
import { useEffect, useMemo, useState } from 'react';
import { getWorker } from '../../../client';
import {
  bestPerColumn, cancelSet, exportSetTable, formatScore, PAIR_SUBSETS, pairsOf, requestSet, SET_COLUMNS, setProgress,
  type PairSubset, type SetRow,
} from '../../set-scores';
import { PRETRAINED, resultKey } from '../../store/results';
import { useStore } from '../../store/store';
import { TradeoffPlot } from './TradeoffPlot';

/** Bootstrap resamples of the intervals (the worker draws them). */
const RESAMPLES = 500;

export function SetPanel({ runIds, names }: { runIds: string[]; names: Record<string, { name: string; strategy: string }> }) {
  const [subset, setSubset] = useState<PairSubset>('all');
  const [started, setStarted] = useState(false);
  const [rows, setRows] = useState<SetRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const order = useStore((s) => s.order);
  const pairs = useStore((s) => s.pairs);
  const results = useStore((s) => s.results);
  const pairIds = useMemo(() => pairsOf({ order, pairs }, subset), [order, pairs, subset]);
  const progress = setProgress({ results }, runIds, pairIds);
  const complete = pairIds.length > 0 && progress.scored === progress.total;
  const runKey = runIds.join(',');

  // The set changed: start again.
  useEffect(() => {
    setRows(null);
    setStarted(false);
  }, [subset, runKey]);

  // Keep asking while started (a result dropped by a backend switch or a restart comes back).
  useEffect(() => {
    if (started && !complete) requestSet(useStore.getState(), runIds, pairIds);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [started, complete, runKey, pairIds]);

  // Every result scored: the worker computes each run's set scores.
  useEffect(() => {
    if (!started || !complete) return;
    const ctrl = new AbortController();
    const st = useStore.getState().results;
    Promise.all(runIds.map(async (runId): Promise<SetRow> => {
      const evals = pairIds.map((p) => st[resultKey(runId, p)].evaluation!);
      const scores = await getWorker().setScores(evals, RESAMPLES, { signal: ctrl.signal });
      return { runId, ...names[runId], pairs: pairIds.length, scores };
    })).then(setRows, (e: Error) => { if (e.name !== 'AbortError') setError(e.message); });
    return () => ctrl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [started, complete, runKey, pairIds]);

  const best = rows ? bestPerColumn(rows) : {};
  const runs = useStore((s) => s.runs);
  const selected = useStore((s) => s.swipeB);
  // A run picked in the plot is the one the swipe view below compares.
  const select = (runId: string) => useStore.getState().setLab(runId === PRETRAINED ? { swipeA: PRETRAINED } : { swipeB: runId });
  return (
    <div className="set-panel" data-testid="set-panel">
      <div className="panel-head">
        <h2>On a set of pairs</h2>
        <select value={subset} aria-label="Pair set" onChange={(e) => setSubset(e.target.value as PairSubset)}>
          {PAIR_SUBSETS.map((o) => <option key={o.value} value={o.value}>{o.label} ({pairsOf({ order, pairs }, o.value).length})</option>)}
        </select>
        {!started && <button type="button" disabled={!pairIds.length} onClick={() => { setError(null); setStarted(true); }}>
          Score {runIds.length} runs × {pairIds.length} pairs</button>}
        {started && !complete && <>
          <progress max={progress.total} value={progress.scored} data-testid="set-progress" />
          <span className="muted">{progress.scored}/{progress.total} scored{progress.failed ? `, ${progress.failed} failed` : ''}</span>
          <button type="button" onClick={() => { cancelSet(useStore.getState(), runIds, pairIds); setStarted(false); }}>Cancel</button>
        </>}
        <span className="spacer" />
        {rows && (['csv', 'json', 'tex'] as const).map((f) => (
          <button key={f} type="button" onClick={() => exportSetTable(rows, { subset, pairs: pairIds.length }, f)}>⤓ Set {f === 'tex' ? 'LaTeX' : f.toUpperCase()}</button>
        ))}
      </div>
      {error && <div className="error-text">{error}</div>}
      {rows && (
        <table className="metrics compare-table" data-testid="set-table">
          <thead><tr><th>run ({pairIds.length} pairs)</th>{SET_COLUMNS.map((c) => <th key={c}>{c}</th>)}</tr></thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.runId} data-run={r.runId} data-selected={r.runId === selected ? 'true' : undefined} className={r.runId === selected ? 'selected' : undefined}
                onClick={() => select(r.runId)}>
                <th className="clip" title={r.name}>{r.name}</th>
                {SET_COLUMNS.map((c) => {
                  const x = r.scores[c];
                  const isBest = best[c] === x.value;
                  return (
                    <td key={c} className={`num${isBest ? ' best' : ''}`} data-metric={c} data-value={x.value} data-best={isBest ? 'true' : undefined}
                      title={Number.isFinite(x.lo) ? `95 % interval [${formatScore(c, x.lo)}, ${formatScore(c, x.hi)}]` : undefined}>
                      {formatScore(c, x.value) || '—'}{isBest ? ' ★' : ''}
                      {Number.isFinite(x.lo) && <div className="fine">[{formatScore(c, x.lo)}, {formatScore(c, x.hi)}]</div>}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {rows && <TradeoffPlot rows={rows} runs={runs} selected={selected} onSelect={select} fileBase={`set_${subset}_${pairIds.length}pairs`} />}
    </div>
  );
}
