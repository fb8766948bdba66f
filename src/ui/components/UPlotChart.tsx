/**
 * uPlot in React: the chart is built when its options change (`optionsKey`), fed new data with
 * `setData` otherwise (cheap enough for live training curves), and follows its box's width.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export function UPlotChart({ options, data, optionsKey, height, onCreate }: {
  options: Omit<uPlot.Options, 'width' | 'height'>;
  data: uPlot.AlignedData;
  /** Rebuild the chart when this changes (series, scales); data alone is only set. */
  optionsKey: string;
  height: number;
  onCreate?: (u: uPlot) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const latest = useRef({ options, data, onCreate });
  latest.current = { options, data, onCreate };

  useEffect(() => {
    const el = box.current!;
    const u = new uPlot({ ...latest.current.options, width: Math.max(200, el.clientWidth), height }, latest.current.data, el);
    chart.current = u;
    latest.current.onCreate?.(u);
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      chart.current = null;
    };
  }, [optionsKey, height]);

  useEffect(() => {
    chart.current?.setData(data);
  }, [data]);

  return <div ref={box} className="uplot-box" />;
}
