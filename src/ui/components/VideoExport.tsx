/**
 * Export of a video pair: the fused video (with or without the overlays, the pretrained F or a
 * run's) as WebM, and the detections of every frame as JSON. Progress with ETA; cancellable.
 */
import { useRef, useState } from 'react';
import { saveBlob } from '../render';
import { fileBase } from '../run-io';
import { weightsOf } from '../runs';
import { useStore } from '../store/store';
import { pause } from '../video/player';
import { exportVideoPair, type ExportQuality } from '../video/export';

export function VideoExport({ pairId }: { pairId: string }) {
  const name = useStore((s) => s.pairs[pairId]?.name ?? 'video');
  const runs = useStore((s) => s.runs);
  const runOrder = useStore((s) => s.runOrder);
  const addLog = useStore((s) => s.addLog);
  const [overlays, setOverlays] = useState(true);
  const [runId, setRunId] = useState('');
  const [quality, setQuality] = useState<ExportQuality>('exact');
  const [progress, setProgress] = useState<{ done: number; total: number; etaS: number } | null>(null);
  const ctrl = useRef<AbortController | null>(null);

  const start = async () => {
    pause();
    const c = new AbortController();
    ctrl.current = c;
    const t0 = performance.now();
    setProgress({ done: 0, total: useStore.getState().videos[pairId]?.frames.length ?? 0, etaS: NaN });
    try {
      const w = runId ? await weightsOf(runId) : undefined;
      if (runId && !w?.fusion) throw new Error('the run has no fusion weights');
      const r = await exportVideoPair(pairId, {
        overlays, quality, signal: c.signal, ...(w?.fusion ? { fusionWeights: { key: runId, ...w.fusion } } : {}),
        onProgress: (done, total) => setProgress({ done, total, etaS: ((performance.now() - t0) / done) * (total - done) / 1000 }),
      });
      const tag = `${name}_${runId && runs[runId] ? fileBase(runs[runId]) : 'pretrained'}${overlays ? '_overlay' : ''}`;
      saveBlob(r.video, `${tag}.webm`);
      saveBlob(new Blob([JSON.stringify({ pair: name, codec: r.codec, frames: r.frames, detections: r.detections }, null, 1)], { type: 'application/json' }), `${tag}_detections.json`);
      addLog('info', `Exported ${name}: ${r.frames} frames (${r.codec} WebM, ${(r.video.size / 1e6).toFixed(1)} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s.`);
    } catch (e) {
      if ((e as Error).name === 'AbortError') addLog('info', `Export of ${name} cancelled: nothing was saved.`);
      else addLog('error', `Export of ${name} failed: ${(e as Error).message}`);
    } finally {
      ctrl.current = null;
      setProgress(null);
    }
  };

  if (progress) {
    return (
      <span className="video-export" data-testid="video-export-progress">
        <progress max={progress.total} value={progress.done} />
        {' '}{progress.done}/{progress.total}{Number.isFinite(progress.etaS) ? ` · ${progress.etaS.toFixed(0)} s left` : ''}
        {' '}<button type="button" onClick={() => ctrl.current?.abort()}>Cancel export</button>
      </span>
    );
  }
  return (
    <span className="video-export">
      <label><input type="checkbox" checked={overlays} onChange={(e) => setOverlays(e.target.checked)} /> overlays</label>
      {runOrder.length > 0 && (
        <select value={runId} aria-label="Export run" onChange={(e) => setRunId(e.target.value)}>
          <option value="">pretrained F</option>
          {runOrder.map((id) => runs[id] && <option key={id} value={id}>{runs[id].name}</option>)}
        </select>
      )}
      <select value={quality} aria-label="Export quality" onChange={(e) => setQuality(e.target.value as ExportQuality)}
        title="exact: every frame as fused, lossless (VP9 RGB), large files; compact: several times smaller, colour edges blurred">
        <option value="exact">exact</option>
        <option value="compact">compact</option>
      </select>
      <button type="button" onClick={() => void start()} title="Fuse every frame and save a WebM and the detections (JSON)">⤓ Export video</button>
    </span>
  );
}
