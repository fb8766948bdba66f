/**
 * Runs as points in the plane of two set-level scores (say VIF against mIoU), each labelled
 * with its weighting, the Pareto front dashed, and each sweep as a line through its points.
 * Clicking a point selects the run. On uPlot; the PNG download is its canvas.
 */
import { useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import type { SetScoreName } from '../../../protocol/messages';
import { saveBlob } from '../../render';
import { paretoFront, SET_COLUMNS, type SetRow, type TradeoffPoint } from '../../set-scores';
import type { RunRecord } from '../../store/lab';
import { UPlotChart } from '../UPlotChart';

const POINT_COLORS = ['#1a73e8', '#d93025', '#188038', '#f9ab00', '#9334e6', '#12b5cb', '#e8710a', '#5f6368'];

interface Point extends TradeoffPoint {
  label: string;
  group?: string;
  color: string;
}

/** A run's weighting as a point label: fixed runs by their loss weights, others by name. */
function weighting(row: SetRow, run: RunRecord | undefined): string {
  const o = run?.spec.options;
  if (run?.spec.strategy === 'fixed' && o && o.intensity !== undefined && o.gradient !== undefined) return `int ${String(o.intensity)} : grad ${String(o.gradient)}`;
  return row.name;
}

export function TradeoffPlot({ rows, runs, selected, onSelect, fileBase }: {
  rows: SetRow[]; runs: Record<string, RunRecord>; selected?: string; onSelect: (runId: string) => void; fileBase: string;
}) {
  const [xm, setXm] = useState<SetScoreName>('VIF');
  const [ym, setYm] = useState<SetScoreName>('mIoU');
  const figure = useRef<HTMLElement>(null);
  const plot = useRef<uPlot | null>(null);
  const points = useMemo((): Point[] => rows
    .map((r, i) => ({ runId: r.runId, x: r.scores[xm].value, y: r.scores[ym].value, label: weighting(r, runs[r.runId]), group: runs[r.runId]?.group, color: POINT_COLORS[i % POINT_COLORS.length] }))
    .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)), [rows, runs, xm, ym]);
  const xs = useMemo(() => [...new Set(points.map((p) => p.x))].sort((a, b) => a - b), [points]);
  const lines = useMemo(() => {
    const groups = [...new Set(points.flatMap((p) => (p.group ? [p.group] : [])))];
    return [{ label: 'Pareto front', pts: paretoFront(points), dash: [6, 4], stroke: '#5f6368' },
      ...groups.map((g, k) => ({ label: `sweep ${k + 1}`, pts: points.filter((p) => p.group === g), dash: [], stroke: '#80868b' }))];
  }, [points]);
  // One column per distinct x; a series per point (points only) and per line (gaps spanned).
  const data = useMemo((): uPlot.AlignedData => [
    xs,
    ...points.map((p) => xs.map((x) => (x === p.x ? p.y : null))),
    ...lines.map((l) => xs.map((x) => l.pts.find((p) => p.x === x)?.y ?? null)),
  ], [xs, points, lines]);
  const options = useMemo((): Omit<uPlot.Options, 'width' | 'height'> => ({
    scales: { x: { time: false, range: (_u, lo, hi) => pad(lo, hi) }, y: { range: (_u, lo, hi) => pad(lo, hi) } },
    axes: [{ label: xm, grid: { stroke: '#eee' } }, { label: ym, grid: { stroke: '#eee' }, size: 56 }],
    legend: { show: false },
    cursor: { points: { show: false }, drag: { x: false, y: false } },
    series: [
      {},
      ...points.map((p) => ({ label: p.label, stroke: p.color, fill: p.color, paths: () => null, points: { show: true, size: p.runId === selected ? 14 : 9, space: 0, fill: p.color } })),
      ...lines.map((l) => ({ label: l.label, stroke: l.stroke, dash: l.dash, width: 1.5, spanGaps: true, points: { show: false } })),
    ],
    hooks: {
      draw: [(u: uPlot) => {
        const ctx = u.ctx;
        const r = uPlot.pxRatio;
        ctx.save();
        ctx.font = `${11 * r}px system-ui, sans-serif`;
        ctx.fillStyle = '#202124';
        for (const p of points) ctx.fillText(p.label, u.valToPos(p.x, 'x', true) + 7 * r, u.valToPos(p.y, 'y', true) - 6 * r);
        ctx.restore();
        // Where each point is, in the plot area's CSS pixels (read by the browser tests).
        figure.current?.setAttribute('data-points', JSON.stringify(points.map((p) => ({ run: p.runId, x: Math.round(u.valToPos(p.x, 'x')), y: Math.round(u.valToPos(p.y, 'y')) }))));
      }],
    },
  }), [points, lines, xm, ym, selected]);

  const onCreate = (u: uPlot) => {
    plot.current = u;
    // Pointer up, seen before uPlot's own mouse handling; positions from the plot area's box.
    u.over.addEventListener('pointerup', (e) => {
      const box = u.over.getBoundingClientRect();
      let best: Point | undefined, bestD = 14;
      for (const p of points) {
        const d = Math.hypot(u.valToPos(p.x, 'x') - (e.clientX - box.left), u.valToPos(p.y, 'y') - (e.clientY - box.top));
        if (d < bestD) { best = p; bestD = d; }
      }
      if (best) onSelect(best.runId);
    }, { capture: true });
  };

  const choose = (value: SetScoreName, set: (v: SetScoreName) => void, label: string) => (
    <select value={value} aria-label={label} onChange={(e) => set(e.target.value as SetScoreName)}>
      {SET_COLUMNS.map((c) => <option key={c} value={c}>{c}</option>)}
    </select>
  );
  return (
    <figure className="tradeoff" ref={figure} data-testid="tradeoff-plot">
      <div className="panel-head">
        <span>Trade-off:</span>{choose(ym, setYm, 'Trade-off y')}<span className="muted">against</span>{choose(xm, setXm, 'Trade-off x')}
        <span className="spacer" />
        <button type="button" onClick={() => plot.current?.ctx.canvas.toBlob((b) => b && saveBlob(b, `${fileBase}_${ym}_vs_${xm}.png`), 'image/png')}>⤓ Plot PNG</button>
      </div>
      {points.length ? (
        <UPlotChart options={options} data={data} height={280} onCreate={onCreate}
          optionsKey={`${xm}|${ym}|${selected}|${points.map((p) => `${p.runId}:${p.x}:${p.y}`).join(',')}`} />
      ) : <div className="muted">No run has both scores on this set.</div>}
    </figure>
  );
}

/** A little room around the points (a single point, or equal values, still get a range). */
function pad(lo: number | null, hi: number | null): [number, number] {
  const a = lo ?? 0, b = hi ?? 1;
  const m = Math.max((b - a) * 0.12, Math.abs(b) * 0.01, 1e-6);
  return [a - m, b + m];
}
