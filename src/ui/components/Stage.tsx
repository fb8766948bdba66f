/**
 * One image viewport: a base image, optionally a second image revealed by a swipe divider,
 * and the overlays (segmentation, boxes). Zoom/pan come from `view-sync` and are written to
 * the DOM directly; the swipe position is a CSS variable. Neither goes through React.
 */
import { useEffect, useLayoutEffect, useRef } from 'react';
import type { Detection } from '../../protocol/messages';
import type { PairImages } from '../cache';
import { colourClassMap, DET_COLORS, gtScale, viewBitmap } from '../render';
import type { GtBox, Settings, ViewName } from '../store/store';
import { fitView, getView, panBy, subscribeView, transformFor, zoomAt } from '../view-sync';

const VIEW_LABEL: Record<ViewName, string> = { ir: 'Infrared', vi: 'Visible', fused: 'Fused' };

export interface StageProps {
  images: PairImages;
  /** Bumps when the pair's result changes. */
  version: number;
  base: ViewName;
  /** Swipe mode: this image shows right of the divider. */
  compare?: ViewName;
  overlays: boolean;
  detections: Detection[];
  gt?: GtBox[];
  source?: { width: number; height: number };
  classes: { seg: string[]; det: string[] };
  settings: Settings;
  onFirstDraw?: () => void;
  /** Shown instead of `base` / `compare` (e.g. a fine-tuning run's fused image, same size). */
  baseOverride?: { bitmap: ImageBitmap; label: string; version: number };
  compareOverride?: { bitmap: ImageBitmap; label: string; version: number };
}

function drawBitmap(c: HTMLCanvasElement | null, bmp: ImageBitmap, w: number, h: number): void {
  if (!c) return;
  if (c.width !== w) c.width = w;
  if (c.height !== h) c.height = h;
  const ctx = c.getContext('2d');
  if (!ctx) return;
  ctx.clearRect(0, 0, w, h);
  ctx.drawImage(bmp, 0, 0);
}

export function Stage(props: StageProps) {
  const { images, version, base, compare, overlays, detections, gt, source, classes, settings, onFirstDraw, baseOverride, compareOverride } = props;
  const { width: iw, height: ih } = images;
  const viewport = useRef<HTMLDivElement>(null);
  const worlds = useRef<(HTMLDivElement | null)[]>([]);
  const baseCanvas = useRef<HTMLCanvasElement>(null);
  const compareCanvas = useRef<HTMLCanvasElement>(null);
  const segCanvas = useRef<HTMLCanvasElement>(null);
  const readout = useRef<HTMLDivElement>(null);
  const size = useRef({ w: 1, h: 1 });

  // Images.
  useLayoutEffect(() => {
    drawBitmap(baseCanvas.current, baseOverride?.bitmap ?? viewBitmap(images, base), iw, ih);
    if (compare) drawBitmap(compareCanvas.current, compareOverride?.bitmap ?? viewBitmap(images, compare), iw, ih);
    onFirstDraw?.();
  }, [images, version, base, compare, iw, ih, onFirstDraw, baseOverride?.bitmap, baseOverride?.version, compareOverride?.bitmap, compareOverride?.version]);

  // Segmentation layer (recoloured only when the map or the hidden classes change).
  const map = settings.segSource === 'label' ? images.label : images.seg;
  const hiddenKey = settings.segHidden.join(',');
  useLayoutEffect(() => {
    const c = segCanvas.current;
    if (!c || !map) return;
    c.width = iw;
    c.height = ih;
    c.getContext('2d')?.putImageData(colourClassMap(map, iw, ih, settings.segHidden), 0, 0);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [map, iw, ih, hiddenKey, version]);

  // Zoom/pan: apply the shared transform to every world layer.
  useEffect(() => {
    const apply = () => {
      const { w, h } = size.current;
      const { s, tx, ty } = transformFor(getView(), w, h, iw, ih);
      const t = `translate(${tx}px, ${ty}px) scale(${s})`;
      for (const el of worlds.current) if (el) el.style.transform = t;
      viewport.current?.classList.toggle('pixelated', s >= 2);
      viewport.current?.style.setProperty('--zoom', String(s));
    };
    const vp = viewport.current!;
    const ro = new ResizeObserver(() => {
      size.current = { w: vp.clientWidth, h: vp.clientHeight };
      apply();
    });
    ro.observe(vp);
    size.current = { w: vp.clientWidth, h: vp.clientHeight };
    apply();
    const unsub = subscribeView(apply);
    return () => {
      ro.disconnect();
      unsub();
    };
  }, [iw, ih]);

  // Pointer: wheel zoom, drag pan, double-click fit, swipe divider, hover readout.
  useEffect(() => {
    const vp = viewport.current!;
    let drag: { x: number; y: number; mode: 'pan' | 'split' } | null = null;
    const local = (e: { clientX: number; clientY: number }) => {
      const r = vp.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top, r };
    };
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const { x, y } = local(e);
      const f = Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0015));
      zoomAt(f, x, y, vp.clientWidth, vp.clientHeight, iw, ih);
    };
    const setSplit = (x: number, w: number) => {
      vp.style.setProperty('--split', `${Math.max(0, Math.min(100, (x / w) * 100))}%`);
    };
    const onDown = (e: PointerEvent) => {
      if (e.button !== 0) return;
      const onHandle = (e.target as HTMLElement).closest('.swipe-handle');
      drag = { x: e.clientX, y: e.clientY, mode: onHandle ? 'split' : 'pan' };
      vp.setPointerCapture(e.pointerId);
      vp.classList.add(onHandle ? 'splitting' : 'panning');
    };
    const onMove = (e: PointerEvent) => {
      const { x, y, r } = local(e);
      if (drag?.mode === 'split') setSplit(x, r.width);
      else if (drag) {
        panBy(e.clientX - drag.x, e.clientY - drag.y, vp.clientWidth, vp.clientHeight, iw, ih);
        drag.x = e.clientX;
        drag.y = e.clientY;
      }
      const { s, tx, ty } = transformFor(getView(), vp.clientWidth, vp.clientHeight, iw, ih);
      const px = Math.floor((x - tx) / s);
      const py = Math.floor((y - ty) / s);
      if (readout.current) {
        if (px >= 0 && py >= 0 && px < iw && py < ih) {
          const m = settings.segSource === 'label' ? images.label : images.seg;
          const cls = m ? classes.seg[m[py * iw + px]] ?? '' : '';
          readout.current.textContent = `x ${px}  y ${py}${cls ? `  ·  ${cls}` : ''}  ·  ${(s * 100).toFixed(0)}%`;
        } else readout.current.textContent = `${(s * 100).toFixed(0)}%`;
      }
    };
    const onUp = (e: PointerEvent) => {
      drag = null;
      if (vp.hasPointerCapture(e.pointerId)) vp.releasePointerCapture(e.pointerId);
      vp.classList.remove('panning', 'splitting');
    };
    const onDbl = () => fitView(iw, ih);
    vp.addEventListener('wheel', onWheel, { passive: false });
    vp.addEventListener('pointerdown', onDown);
    vp.addEventListener('pointermove', onMove);
    vp.addEventListener('pointerup', onUp);
    vp.addEventListener('pointercancel', onUp);
    vp.addEventListener('dblclick', onDbl);
    return () => {
      vp.removeEventListener('wheel', onWheel);
      vp.removeEventListener('pointerdown', onDown);
      vp.removeEventListener('pointermove', onMove);
      vp.removeEventListener('pointerup', onUp);
      vp.removeEventListener('pointercancel', onUp);
      vp.removeEventListener('dblclick', onDbl);
    };
  }, [iw, ih, images, classes, settings.segSource]);

  const worldStyle = { width: iw, height: ih };
  const gs = gtScale(source, images);
  const lw = Math.max(2, Math.round(ih / 240));
  const font = Math.max(10, Math.round(ih / 44));
  const shownDets = settings.showDet ? detections.filter((d) => d[5] >= settings.detThreshold) : [];

  return (
    <div className="stage" ref={viewport} data-testid={`stage-${base}${compare ? `-${compare}` : ''}`}>
      <div className="world" ref={(el) => { worlds.current[0] = el; }} style={worldStyle}>
        <canvas ref={baseCanvas} className="layer" data-testid={`${base}-canvas`} data-view={base} />
      </div>
      {compare && (
        <div className="swipe-clip">
          <div className="world" ref={(el) => { worlds.current[1] = el; }} style={worldStyle}>
            <canvas ref={compareCanvas} className="layer" data-testid={`${compare}-canvas-compare`} data-view={compare} />
          </div>
        </div>
      )}
      {overlays && (
        <div className="world overlay-world" ref={(el) => { worlds.current[2] = el; }} style={worldStyle}>
          {map && (
            <canvas
              ref={segCanvas}
              className="layer seg-layer"
              data-testid="seg-canvas"
              style={{ opacity: settings.showSeg ? settings.segOpacity : 0 }}
            />
          )}
          <svg className="layer box-layer" viewBox={`0 0 ${iw} ${ih}`} width={iw} height={ih} data-testid="box-layer">
            {settings.showGt && gt?.map(([x1, y1, x2, y2], i) => (
              <rect key={`gt${i}`} className="gt-box" x={x1 * gs[0]} y={y1 * gs[1]} width={(x2 - x1) * gs[0]} height={(y2 - y1) * gs[1]} strokeWidth={lw} strokeDasharray={`${lw * 3} ${lw * 2}`} />
            ))}
            {shownDets.map(([x1, y1, x2, y2, c, score], i) => {
              const col = DET_COLORS[c] ?? '#fff';
              const text = `${classes.det[c] ?? c} ${score.toFixed(2)}`;
              const ty = y1 - font - 4 >= 0 ? y1 - font - 4 : y1;
              return (
                <g key={i} className="det-box">
                  <rect x={x1} y={y1} width={x2 - x1} height={y2 - y1} stroke={col} strokeWidth={lw} fill="none" />
                  <rect x={x1 - lw / 2} y={ty} width={text.length * font * 0.58 + 8} height={font + 4} fill={col} />
                  <text x={x1 + 4 - lw / 2} y={ty + font * 0.9} fontSize={font} fontWeight={600} fill="#111">{text}</text>
                </g>
              );
            })}
          </svg>
        </div>
      )}
      {compare ? (
        <>
          <div className="stage-caption left">{baseOverride?.label ?? VIEW_LABEL[base]}</div>
          <div className="stage-caption right">{compareOverride?.label ?? VIEW_LABEL[compare]}</div>
          <div className="swipe-line"><div className="swipe-handle" title="Drag to compare" aria-label="Swipe divider" role="separator" /></div>
        </>
      ) : (
        <div className="stage-caption left">{VIEW_LABEL[base]}</div>
      )}
      <div className="readout" ref={readout} />
    </div>
  );
}
