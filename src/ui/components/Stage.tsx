/**
 * The one image viewport of the page: a left image, optionally a right image revealed by a
 * swipe divider, and the overlays (segmentation, boxes) of a result. The viewer and the run
 * comparison both use it. Zoom/pan come from `view-sync` (shared by every stage) and are
 * written to the DOM directly; the swipe position is a CSS variable. Neither goes through React.
 */
import { useEffect, useLayoutEffect, useRef } from 'react';
import type { ResultImages } from '../cache';
import { colourClassMap, drawBoxes, shownClassMap, type GroundTruth } from '../render';
import type { Settings } from '../store/store';
import { fitView, getView, noteGeometry, panBy, subscribeView, transformFor, zoomAt } from '../view-sync';

/** An image a stage shows, with its caption and test id. */
export interface StageImage {
  bitmap: ImageBitmap;
  label: string;
  testId: string;
  /** Bumps when the bitmap is replaced. */
  version: number;
  /** More `data-*` attributes of its canvas (what the browser tests read). */
  data?: Record<`data-${string}`, string>;
}

export interface StageProps {
  /** The result whose size sets the stage and whose overlays are drawn. */
  images: ResultImages;
  /** Bumps when the result changes. */
  version: number;
  left: StageImage;
  /** Swipe mode: this image shows right of the divider. */
  right?: StageImage;
  overlays: boolean;
  gt: GroundTruth;
  classes: { seg: string[]; det: string[] };
  settings: Settings;
  testId: string;
  onFirstDraw?: () => void;
  /** Drawn over the boxes, in image pixels (e.g. an inset). */
  paintExtra?: (ctx: CanvasRenderingContext2D) => void;
  /**
   * `zoom` (default): the wheel zooms. `ctrl-zoom`: the wheel scrolls the page or panel, and zooms
   * with Ctrl or ⌘ held (stages inside a scrolling panel, such as the comparison's tiles).
   */
  wheel?: 'zoom' | 'ctrl-zoom';
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
  const { images, version, left, right, overlays, gt, classes, settings, testId, onFirstDraw, paintExtra, wheel = 'zoom' } = props;
  const { width: iw, height: ih } = images;
  const viewport = useRef<HTMLDivElement>(null);
  const worlds = useRef<(HTMLDivElement | null)[]>([]);
  const baseCanvas = useRef<HTMLCanvasElement>(null);
  const compareCanvas = useRef<HTMLCanvasElement>(null);
  const segCanvas = useRef<HTMLCanvasElement>(null);
  const boxCanvas = useRef<HTMLCanvasElement>(null);
  const readout = useRef<HTMLDivElement>(null);
  const size = useRef({ w: 1, h: 1 });

  // Images.
  useLayoutEffect(() => {
    drawBitmap(baseCanvas.current, left.bitmap, iw, ih);
    if (right) drawBitmap(compareCanvas.current, right.bitmap, iw, ih);
    onFirstDraw?.();
  }, [version, iw, ih, onFirstDraw, left.bitmap, left.version, right?.bitmap, right?.version]);

  // Segmentation layer (recoloured only when the map or the hidden classes change; the
  // opacity slider is CSS).
  const map = shownClassMap(images, settings);
  const hiddenKey = settings.segHidden.join(',');
  useLayoutEffect(() => {
    const c = segCanvas.current;
    if (!c || !map) return;
    c.width = iw;
    c.height = ih;
    c.getContext('2d')?.putImageData(colourClassMap(map, iw, ih, settings.segHidden), 0, 0);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [map, iw, ih, hiddenKey, version]);

  // Boxes.
  const { showDet, showGt, detThreshold } = settings;
  useLayoutEffect(() => {
    const c = boxCanvas.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx) return;
    if (c.width !== iw) c.width = iw;
    if (c.height !== ih) c.height = ih;
    ctx.clearRect(0, 0, iw, ih);
    const { labels, elided } = drawBoxes(ctx, images.detections, gt, classes.det, settings, iw, ih);
    // Where each label went, for the browser tests that check none overlaps another.
    c.dataset.labels = JSON.stringify(labels.map(({ x, y, w, h }) => [x, y, w, h]));
    c.dataset.elided = String(elided);
    paintExtra?.(ctx);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [images, version, gt, classes.det, showDet, showGt, detThreshold, iw, ih, overlays, paintExtra]);

  // Zoom/pan: apply the shared transform to every world layer.
  useEffect(() => {
    const apply = () => {
      const { w, h } = size.current;
      const { s, tx, ty } = transformFor(getView(), w, h, iw, ih);
      noteGeometry(w, h, iw, ih);
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
      if (wheel === 'ctrl-zoom' && !e.ctrlKey && !e.metaKey) return; // let the panel scroll
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
          const m = shownClassMap(images, settings);
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
    const listening = new AbortController();
    const { signal } = listening;
    vp.addEventListener('wheel', onWheel, { passive: false, signal });
    vp.addEventListener('pointerdown', onDown, { signal });
    vp.addEventListener('pointermove', onMove, { signal });
    vp.addEventListener('pointerup', onUp, { signal });
    vp.addEventListener('pointercancel', onUp, { signal });
    vp.addEventListener('dblclick', onDbl, { signal });
    return () => listening.abort();
  }, [iw, ih, images, classes, settings, wheel]);

  const worldStyle = { width: iw, height: ih };

  return (
    <div className="stage" ref={viewport} data-testid={testId}>
      <div className="world" ref={(el) => { worlds.current[0] = el; }} style={worldStyle}>
        <canvas ref={baseCanvas} className="layer" data-testid={left.testId} {...left.data} />
      </div>
      {right && (
        <div className="swipe-clip">
          <div className="world" ref={(el) => { worlds.current[1] = el; }} style={worldStyle}>
            <canvas ref={compareCanvas} className="layer" data-testid={right.testId} />
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
          <canvas ref={boxCanvas} className="layer box-layer" data-testid="box-layer"
            data-boxes={images.detections.filter((d) => showDet && d[5] >= detThreshold).length} />
        </div>
      )}
      {right ? (
        <>
          <div className="stage-caption left">{left.label}</div>
          <div className="stage-caption right">{right.label}</div>
          <div className="swipe-line"><div className="swipe-handle" title="Drag to compare" aria-label="Swipe divider" role="separator" /></div>
        </>
      ) : (
        <div className="stage-caption left">{left.label}</div>
      )}
      <div className="readout" ref={readout} />
    </div>
  );
}
