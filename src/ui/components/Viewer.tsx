/**
 * The image area: a toolbar (view mode, swipe sides, zoom, downloads) and the view(s) of the
 * selected pair. All views share zoom/pan.
 */
import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { getResultImages, type ResultImages } from '../cache';
import { groundTruth, resultPng, saveBlob, viewBitmap } from '../render';
import { PRETRAINED, resultKey } from '../store/results';
import { useResult, useSelectedPair, useStore, type ViewMode, type ViewName } from '../store/store';
import { fitView, setZoom, zoomAt } from '../view-sync';
import { useRequestedResult } from '../use-requested-result';
import { Segmented } from './Segmented';
import { Stage, type StageImage } from './Stage';
import { AspectChoice } from './AspectChoice';
import { VideoBar } from './VideoBar';

const VIEW_LABEL: Record<ViewName, string> = { ir: 'Infrared', vi: 'Visible', fused: 'Fused' };

/** A view of the pretrained result as a stage image. */
function viewImage(im: ResultImages, v: ViewName, version: number, side = ''): StageImage {
  return { bitmap: viewBitmap(im, v), label: VIEW_LABEL[v], testId: `${v}-canvas${side}`, version };
}

/** A run's fused image of the pair for the swipe view, once it is fused (and of the same size). */
function useRunImage(runId: string, pairId: string | undefined, name: string | undefined, w: number, h: number): StageImage | undefined {
  const { res, im } = useRequestedResult(runId, pairId);
  return im && res && im.width === w && im.height === h ? { bitmap: im.fused, label: `Run: ${name ?? runId}`, testId: `run-canvas-${runId}`, version: res.version } : undefined;
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

function markFirstOverlay(): void {
  const s = useStore.getState();
  if (s.worker.firstOverlayMs !== undefined) return;
  const t = performance.now();
  performance.mark('first-overlay');
  s.setWorker({ firstOverlayMs: t });
}

export function Viewer() {
  const pair = useSelectedPair();
  const settings = useStore((s) => s.settings);
  const setSettings = useStore((s) => s.setSettings);
  const classes = useStore((s) => s.worker.classes);
  const workerStatus = useStore((s) => s.worker.status);
  const result = useResult(pair?.id);
  const images = pair && result && result.version > 0 ? getResultImages(resultKey(PRETRAINED, pair.id)) : undefined;
  const [busy, setBusy] = useState<string | null>(null);
  const iw = images?.width ?? 0;
  const ih = images?.height ?? 0;
  const runs = useStore((s) => s.runs);
  const runOrder = useStore((s) => s.runOrder);
  const swiping = settings.viewMode === 'swipe';
  const runA = useStore((s) => (swiping ? s.viewerRunA : ''));
  const runB = useStore((s) => (swiping ? s.viewerRunB : ''));
  const setLab = useStore((s) => s.setLab);
  const runImageA = useRunImage(runA, pair?.id, runs[runA]?.name, iw, ih);
  const runImageB = useRunImage(runB, pair?.id, runs[runB]?.name, iw, ih);

  useEffect(() => {
    if (iw && ih) fitView(iw, ih);
  }, [pair?.id, iw, ih]);

  const onFirstDraw = useCallback(() => {
    if (useStore.getState().worker.firstOverlayMs === undefined) requestAnimationFrame(markFirstOverlay);
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

  // Stable unless the pair or its result changes: a Stage redraws its boxes when it changes.
  const gt = useMemo(() => groundTruth(pair?.gt, result?.source?.ir, { width: iw || 1, height: ih || 1 }), [pair?.gt, result?.source, iw, ih]);
  const download = async (kind: 'fused' | 'overlay') => {
    if (!pair || !images) return;
    setBusy(kind);
    try {
      const blob = await resultPng(images, kind === 'fused' ? null : { gt, classes: classes.det, settings });
      saveBlob(blob, `${pair.name}_${kind}.png`);
    } finally {
      setBusy(null);
    }
  };

  let body: ReactNode;
  if (!pair) {
    body = <div className="viewer-empty">No pair selected. Drop IR/VI images or folders on the left.</div>;
  } else if (!images) {
    const failed = result?.status === 'error';
    const msg = failed
      ? <>Could not fuse <b>{pair.name}</b>: {result.error}</>
      : result?.status === 'held' ? <><b>{pair.name}</b> is held unfused: {result.error}. <AspectChoice pair={pair} /></>
      : workerStatus === 'ready' ? <>Fusing <b>{pair.name}</b>…</> : <>Waiting for the models…</>;
    body = <div className={`viewer-empty${failed ? ' error' : ''}`}>{msg}</div>;
  } else {
    const version = result?.version ?? 0;
    const common = { images, version, gt, classes, settings };
    const view = (v: ViewName, side = '') => viewImage(images, v, version, side);
    if (settings.viewMode === 'overlay') {
      body = <Stage {...common} testId={`stage-${settings.base}`} left={view(settings.base)} overlays onFirstDraw={onFirstDraw} />;
    } else if (settings.viewMode === 'swipe') {
      // Overlays belong to the pretrained result: off while a run is shown.
      body = <Stage {...common} testId={`stage-${settings.swipeA}-${settings.swipeB}`}
        left={runImageA ?? view(settings.swipeA)} right={runImageB ?? view(settings.swipeB, '-compare')}
        overlays={!runA && !runB && (settings.swipeA === 'fused' || settings.swipeB === 'fused')} onFirstDraw={onFirstDraw} />;
    } else {
      body = (
        <div className="grid3">
          <Stage {...common} testId="stage-ir" left={view('ir')} overlays={false} />
          <Stage {...common} testId="stage-vi" left={view('vi')} overlays={false} />
          <Stage {...common} testId="stage-fused" left={view('fused')} overlays onFirstDraw={onFirstDraw} />
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
      {pair?.media === 'video' && <VideoBar pairId={pair.id} />}
      {pair && (
        <div className="viewer-status">
          <span className="pair-title">{pair.name}</span>
          {result?.size && <span>{result.size.width}×{result.size.height}</span>}
          {result?.timings && <span title="Decode / pipeline / total">inference {result.timings.pipeline.toFixed(0)} ms on {result.backend}</span>}
          {result?.stale && pair.media !== 'video' && <span className="tag warn">re-fusing on new backend…</span>}
          <span className="spacer" />
          <span className="muted">wheel: zoom · drag: pan · double-click: fit</span>
        </div>
      )}
    </section>
  );
}

