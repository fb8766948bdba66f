/**
 * Live curves of a fine-tune on uPlot: the loss terms and total, or the strategy's other numbers
 * (`stats`: bdl's task weights w_k and coefficients c_k, td's ε). Hover for the values at a
 * step, drag to zoom (double-click: all), log or linear y for the losses (c_k can be negative,
 * so stats are linear).
 */
import { useMemo, useState } from 'react';
import type uPlot from 'uplot';
import type { LossPoint } from '../../store/lab';
import { UPlotChart } from '../UPlotChart';

const COLORS = ['#e8eaed', '#4285f4', '#ea4335', '#fbbc05', '#34a853', '#ab47bc', '#00acc1', '#ff7043', '#9e9d24', '#8d6e63'];

export function LossChart({ history, total, series = 'losses' }: { history: LossPoint[]; total: number; series?: 'losses' | 'stats' }) {
  const losses = series === 'losses';
  const [log, setLog] = useState(true);
  const logScale = losses && log;
  const names = useMemo(() => (losses
    ? ['total', ...new Set(history.flatMap((p) => Object.keys(p.terms)))]
    : [...new Set(history.flatMap((p) => Object.keys(p.stats ?? {})))]), [history, losses]);
  const data = useMemo((): uPlot.AlignedData => {
    const value = (p: LossPoint, n: string) => (!losses ? p.stats?.[n] : n === 'total' ? p.total : p.terms[n]);
    // A log axis cannot show zero, negatives or non-finite values: they are gaps.
    const shown = (v: number | undefined) => (v !== undefined && Number.isFinite(v) && (!logScale || v > 0) ? v : null);
    return [history.map((p) => p.step), ...names.map((n) => history.map((p) => shown(value(p, n))))];
  }, [history, names, losses, logScale]);
  const options = useMemo((): Omit<uPlot.Options, 'width' | 'height'> => ({
    scales: { x: { time: false, range: (_u, lo, hi) => [Math.min(lo ?? 1, 1), Math.max(hi ?? 1, total, 2)] }, y: { distr: logScale ? 3 : 1 } },
    axes: [{ stroke: '#9aa0a6', grid: { stroke: '#2c2f36' } }, { stroke: '#9aa0a6', grid: { stroke: '#2c2f36' }, size: 50 }],
    series: [{ label: 'step' }, ...names.map((n, i) => ({
      label: n, stroke: COLORS[i % COLORS.length], width: n === 'total' ? 2 : 1.2, spanGaps: true, points: { show: false },
      value: (_u: uPlot, v: number | null) => (v === null ? '—' : v.toPrecision(3)),
    }))],
    legend: { live: true },
  }), [names, logScale, total]);
  return (
    <figure className="loss-chart" data-testid={losses ? 'loss-chart' : 'stats-chart'} data-points={history.length}
      aria-label={losses ? `Loss curves (${logScale ? 'log' : 'linear'} scale)` : 'Task weights and coefficients (linear scale)'}>
      <UPlotChart options={options} data={data} optionsKey={`${names.join('|')}|${logScale}|${total}`} height={170} />
      {losses && (
        <label className="fine"><input type="checkbox" checked={log} onChange={(e) => setLog(e.target.checked)} /> log scale</label>
      )}
    </figure>
  );
}
