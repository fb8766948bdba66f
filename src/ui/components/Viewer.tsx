/**
 * The image area: a toolbar (view mode, swipe sides, zoom, downloads) and the view(s) of the
 * selected pair. All views share zoom/pan.
 */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { getImages } from '../cache';
import { fusedPng, gtScale, overlayPng, saveBlob } from '../render';
import { useSelectedPair, useStore, type ViewMode, type ViewName } from '../store/store';
import { fitView, setZoom, zoomAt } from '../view-sync';
import { Stage } from './Stage';
import { ensureResult } from '../lab-actions';
import { getRunImages } from '../run-cache';
import { resultKey, useLab, type RunResultState } from '../store/lab';

/** A fine-tuning run's fused image of the pair for the swipe view, once it is fused. */
function runOverride(runId: string, pairId: string | undefined, res: RunResultState | undefined, name: string | undefined, w: number, h: number) {
  if (!runId || !pairId || res?.status !== 'done') return undefined;
  const im = getRunImages(resultKey(runId, pairId));
  return im && im.width === w && im.height === h ? { bitmap: im.fused, label: `Run: ${name ?? runId}`, version: res.version } : undefined;
}

const VIEWS: { value: ViewName; label: string }[] = [
  { value: 'ir', label: 'IR' },
  { value: 'vi', label: 'VI' },
  { value: 'fused', label: 'Fused' },
];
const MODES: { value: ViewMode; label: string; title: string }[] = [
  { value: 'overlay', label: 'Overlay', title: 'One image with segmentation and detection overlays' },
  { value: 'swipe', label: 'Swipe', title: 'Two images with a draggable divider' },
  { value: 'grid', label: 'Side by side', title: 'IR, VI and fused side by side, zoom synced' },
];

function Segmented<T extends string>({ value, options, onChange, label }: {
  value: T; options: { value: T; label: string; title?: string }[]; onChange: (v: T) => void; label: string;
}) {
  return (
    <div className="segmented" role="radiogroup" aria-label={label}>
      {options.map((o) => (
        <button key={o.value} type="button" role="radio" aria-checked={value === o.value}
          className={value === o.value ? 'on' : ''} title={o.title} onClick={() => onChange(o.value)}>
          {o.label}
        </button>
      ))}
    </div>
  );
}

function markFirstOverlay(): void {
  const s = useStore.getState();
  if (s.engine.firstOverlayMs !== undefined) return;
  const t = performance.now();
  performance.mark('first-overlay');
  s.setEngine({ firstOverlayMs: t });
}

export function Viewer() {
  const pair = useSelectedPair();
  const settings = useStore((s) => s.settings);
  const setSettings = useStore((s) => s.setSettings);
  const classes = useStore((s) => s.engine.classes);
  const engineStatus = useStore((s) => s.engine.status);
  const images = pair && pair.version > 0 ? getImages(pair.id) : undefined;
  const [busy, setBusy] = useState<string | null>(null);
  const iw = images?.width ?? 0;
  const ih = images?.height ?? 0;
  const runs = useLab((s) => s.runs);
  const runOrder = useLab((s) => s.runOrder);
  const runA = useLab((s) => s.viewerRunA);
  const runB = useLab((s) => s.viewerRunB);
  const setLab = useLab((s) => s.set);
  const resA = useLab((s) => (pair && runA ? s.results[resultKey(runA, pair.id)] : undefined));
  const resB = useLab((s) => (pair && runB ? s.results[resultKey(runB, pair.id)] : undefined));
  const swiping = settings.viewMode === 'swipe';
  useEffect(() => {
    if (!pair || !swiping || pair.status !== 'done') return;
    if (runA && !resA) void ensureResult(runA, pair.id);
    if (runB && !resB) void ensureResult(runB, pair.id);
  }, [pair, swiping, runA, runB, resA, resB]);
  const ovA = swiping ? runOverride(runA, pair?.id, resA, runs[runA]?.name, iw, ih) : undefined;
  const ovB = swiping ? runOverride(runB, pair?.id, resB, runs[runB]?.name, iw, ih) : undefined;

  useEffect(() => {
    if (iw && ih) fitView(iw, ih);
  }, [pair?.id, iw, ih]);

  const onFirstDraw = useCallback(() => {
    if (useStore.getState().engine.firstOverlayMs === undefined) requestAnimationFrame(markFirstOverlay);
  }, []);

  const zoomBy = (f: number) => {
    const el = document.querySelector('.stage');
    if (!el || !iw) return;
    zoomAt(f, el.clientWidth / 2, el.clientHeight / 2, el.clientWidth, el.clientHeight, iw, ih);
  };
  const oneToOne = () => {
    const el = document.querySelector('.stage');
    if (el && iw) setZoom(1, el.clientWidth, el.clientHeight, iw, ih);
  };

  const download = async (kind: 'fused' | 'overlay') => {
    if (!pair || !images) return;
    setBusy(kind);
    try {
      const blob = kind === 'fused'
        ? await fusedPng(images)
        : await overlayPng(images, pair.detections, pair.gt, gtScale(pair.source?.ir, images), classes.det, settings);
      saveBlob(blob, `${pair.name}_${kind}.png`);
    } finally {
      setBusy(null);
    }
  };

  let body: ReactNode;
  if (!pair) {
    body = <div className="viewer-empty">No pair selected. Drop IR/VI images or folders on the left.</div>;
  } else if (!images) {
    const msg = pair.status === 'error'
      ? <>Could not fuse <b>{pair.name}</b>: {pair.error}</>
      : engineStatus === 'ready' ? <>Fusing <b>{pair.name}</b>…</> : <>Waiting for the models…</>;
    body = <div className={`viewer-empty${pair.status === 'error' ? ' error' : ''}`}>{msg}</div>;
  } else {
    const common = {
      images, version: pair.version, detections: pair.detections, gt: pair.gt,
      source: pair.source?.ir, classes, settings,
    };
    if (settings.viewMode === 'overlay') {
      body = <Stage {...common} base={settings.base} overlays onFirstDraw={onFirstDraw} />;
    } else if (settings.viewMode === 'swipe') {
      // Overlays belong to the pretrained result: off while a run is shown.
      body = <Stage {...common} base={settings.swipeA} compare={settings.swipeB} baseOverride={ovA} compareOverride={ovB}
        overlays={!runA && !runB && (settings.swipeA === 'fused' || settings.swipeB === 'fused')} onFirstDraw={onFirstDraw} />;
    } else {
      body = (
        <div className="grid3">
          <Stage {...common} base="ir" overlays={false} />
          <Stage {...common} base="vi" overlays={false} />
          <Stage {...common} base="fused" overlays onFirstDraw={onFirstDraw} />
        </div>
      );
    }
  }

  return (
    <section className="viewer" aria-label="Viewer">
      <div className="toolbar">
        <Segmented label="View mode" value={settings.viewMode} options={MODES} onChange={(v) => setSettings({ viewMode: v })} />
        {settings.viewMode === 'overlay' && (
          <Segmented label="Base image" value={settings.base} options={VIEWS} onChange={(v) => setSettings({ base: v })} />
        )}
        {settings.viewMode === 'swipe' && (
          <span className="swipe-pick">
            <Segmented label="Left image" value={settings.swipeA} options={VIEWS} onChange={(v) => setSettings({ swipeA: v })} />
            <span className="muted">vs</span>
            <Segmented label="Right image" value={settings.swipeB} options={VIEWS} onChange={(v) => setSettings({ swipeB: v })} />
            {runOrder.length > 0 && (
              <>
                <select value={runA} aria-label="Left run" title="Show a fine-tuning run's fused image on the left instead"
                  onChange={(e) => setLab({ viewerRunA: e.target.value })}>
                  <option value="">left: image</option>
                  {runOrder.map((id) => runs[id] && <option key={id} value={id}>left: {runs[id].name}</option>)}
                </select>
                <select value={runB} aria-label="Right run" title="Show a fine-tuning run's fused image on the right instead"
                  onChange={(e) => setLab({ viewerRunB: e.target.value })}>
                  <option value="">right: image</option>
                  {runOrder.map((id) => runs[id] && <option key={id} value={id}>right: {runs[id].name}</option>)}
                </select>
              </>
            )}
          </span>
        )}
        <span className="spacer" />
        <div className="btn-group" aria-label="Zoom">
          <button type="button" onClick={() => zoomBy(1 / 1.25)} title="Zoom out" aria-label="Zoom out">−</button>
          <button type="button" onClick={() => iw && fitView(iw, ih)} title="Fit to the view (or double-click the image)">Fit</button>
          <button type="button" onClick={oneToOne} title="Actual pixels">1:1</button>
          <button type="button" onClick={() => zoomBy(1.25)} title="Zoom in" aria-label="Zoom in">+</button>
        </div>
        <div className="btn-group">
          <button type="button" disabled={!images || busy !== null} onClick={() => void download('fused')}
            title="Download the fused image (PNG, exact pixels)">⤓ Fused</button>
          <button type="button" disabled={!images || busy !== null} onClick={() => void download('overlay')}
            title="Download the fused image with the overlays as shown (PNG)">⤓ Overlay</button>
        </div>
      </div>
      <div className="viewer-body">{body}</div>
      {pair && (
        <div className="viewer-status">
          <span className="pair-title">{pair.name}</span>
          {pair.size && <span>{pair.size.width}×{pair.size.height}</span>}
          {pair.timings && <span title="Decode / pipeline / total">inference {pair.timings.pipeline.toFixed(0)} ms on {pair.backend}</span>}
          {pair.stale && <span className="tag warn">re-fusing on new backend…</span>}
          <span className="spacer" />
          <span className="muted">wheel: zoom · drag: pan · double-click: fit</span>
        </div>
      )}
    </section>
  );
}

