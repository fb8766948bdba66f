/**
 * Live curves of a fine-tune: the loss terms and total (log-scale y), or the strategy's other
 * numbers (`stats`: bdl's task weights w_k and coefficients c_k, td's ε; linear y, since c_k
 * can be negative). A small SVG chart; renders only what it is given.
 */
import type { LossPoint } from '../../store/lab';

const COLORS = ['#e8eaed', '#4285f4', '#ea4335', '#fbbc05', '#34a853', '#ab47bc', '#00acc1', '#ff7043', '#9e9d24', '#8d6e63'];
const W = 420;
const H = 150;
const PAD = { l: 42, r: 8, t: 8, b: 18 };

export function LossChart({ history, total, series = 'losses' }: { history: LossPoint[]; total: number; series?: 'losses' | 'stats' }) {
  const logScale = series === 'losses';
  const names = logScale
    ? ['total', ...new Set(history.flatMap((p) => Object.keys(p.terms)))]
    : [...new Set(history.flatMap((p) => Object.keys(p.stats ?? {})))];
  const every = Math.max(1, Math.ceil(history.length / 300));
  const pts = history.filter((_, i) => i % every === 0 || i === history.length - 1);
  const value = (p: LossPoint, n: string) => (!logScale ? p.stats?.[n] ?? NaN : n === 'total' ? p.total : p.terms[n]);
  const shown = (v: number) => Number.isFinite(v) && (!logScale || v > 0);
  const tr = (v: number) => (logScale ? Math.log10(v) : v);
  const vals = pts.flatMap((p) => names.map((n) => value(p, n))).filter(shown).map(tr);
  const lo = vals.length ? Math.min(...vals) : -1;
  const hi = vals.length ? Math.max(...vals) : 1;
  const span = Math.max(hi - lo, logScale ? 0.1 : 1e-3);
  const maxStep = Math.max(total, history.at(-1)?.step ?? 1, 1);
  const x = (s: number) => PAD.l + ((W - PAD.l - PAD.r) * (s - 1)) / Math.max(1, maxStep - 1);
  const y = (v: number) => PAD.t + (H - PAD.t - PAD.b) * (1 - (tr(v) - lo) / span);
  const tick = (t: number) => (logScale ? 10 ** t : t).toPrecision(2);
  return (
    <figure className="loss-chart" data-testid={logScale ? 'loss-chart' : 'stats-chart'} data-points={history.length}>
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img"
        aria-label={logScale ? 'Loss curves (log scale)' : 'Task weights and coefficients (linear scale)'}>
        <rect x={PAD.l} y={PAD.t} width={W - PAD.l - PAD.r} height={H - PAD.t - PAD.b} className="plot-bg" />
        <text x={PAD.l - 4} y={PAD.t + 8} textAnchor="end" className="tick">{tick(hi)}</text>
        <text x={PAD.l - 4} y={H - PAD.b} textAnchor="end" className="tick">{tick(lo)}</text>
        <text x={W - PAD.r} y={H - 4} textAnchor="end" className="tick">step {maxStep}</text>
        {names.map((n, i) => {
          const d = pts.filter((p) => shown(value(p, n)))
            .map((p, j) => `${j ? 'L' : 'M'}${x(p.step).toFixed(1)},${y(value(p, n)).toFixed(1)}`).join('');
          return d ? <path key={n} d={d} fill="none" stroke={COLORS[i % COLORS.length]} strokeWidth={n === 'total' ? 2 : 1.2} /> : null;
        })}
      </svg>
      <figcaption className="chart-legend">
        {names.map((n, i) => {
          const last = history.at(-1);
          const v = last ? value(last, n) : undefined;
          return (
            <span key={n}><i style={{ background: COLORS[i % COLORS.length] }} />{n} {v !== undefined && Number.isFinite(v) ? v.toPrecision(3) : '—'}</span>
          );
        })}
      </figcaption>
    </figure>
  );
}
