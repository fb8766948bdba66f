/**
 * The controls of a video pair under the viewer: play / pause, step, scrub, the offset between
 * the two videos, and the frames per second achieved live (with the backend).
 */
import { useStore } from '../store/store';
import { PRETRAINED, resultKey } from '../store/results';
import { lostShare } from '../store/video';
import { pause, play, setOffset, showFrame } from '../video/player';
import { VideoExport } from './VideoExport';

// Inline SVG, not font glyphs: ⏮ and ⏭ show as empty boxes where the system font lacks them.
const ICON_PATHS = {
  previous: 'M3 2h2v12H3zM14 2v12L6 8z',
  next: 'M11 2h2v12h-2zM2 2v12l8-6z',
  play: 'M4 2v12l10-6z',
  pause: 'M3 2h4v12H3zM9 2h4v12H9z',
} as const;

function Icon({ name }: { name: keyof typeof ICON_PATHS }) {
  return (
    <svg className="icon" data-icon={name} viewBox="0 0 16 16" width="12" height="12" aria-hidden="true" focusable="false">
      <path d={ICON_PATHS[name]} fill="currentColor" />
    </svg>
  );
}

export function VideoBar({ pairId }: { pairId: string }) {
  const v = useStore((s) => s.videos[pairId]);
  const playing = useStore((s) => s.playing === pairId);
  const live = useStore((s) => (s.live?.pairId === pairId ? s.live : null));
  const backend = useStore((s) => s.worker.backend?.name);
  const pipelineMs = useStore((s) => s.results[resultKey(PRETRAINED, pairId)]?.timings?.pipeline);
  if (!v) return null;
  const f = v.frames[v.frame];
  const last = v.frames.length - 1;
  const step = (d: number) => { pause(); void showFrame(pairId, v.frame + d); };
  return (
    <div className="video-bar" data-testid="video-bar" data-frame={v.frame} data-frames={v.frames.length} data-playing={playing}>
      <button type="button" onClick={() => step(-1)} disabled={v.frame <= 0} aria-label="Previous frame" title="Previous frame"><Icon name="previous" /></button>
      {playing
        ? <button type="button" onClick={pause} aria-label="Pause"><Icon name="pause" /> Pause</button>
        : <button type="button" onClick={() => void play(pairId)} aria-label="Play"><Icon name="play" /> Play</button>}
      <button type="button" onClick={() => step(1)} disabled={v.frame >= last} aria-label="Next frame" title="Next frame"><Icon name="next" /></button>
      <input type="range" min={0} max={last} step={1} value={v.frame} aria-label="Frame"
        onChange={(e) => { pause(); void showFrame(pairId, Number(e.target.value)); }} />
      <span className="mono" data-testid="video-time">
        {f ? f.time.toFixed(2) : '—'} s · frame {v.frame + 1}/{v.frames.length} · {v.fps.toFixed(1)} fps
      </span>
      <label title="Seconds the visible video is ahead of the infrared one: nudge it until the two line up">
        offset (s){' '}
        <input type="number" step={0.01} value={v.offset} aria-label="Offset"
          onChange={(e) => { const x = Number(e.target.value); if (Number.isFinite(x)) void setOffset(pairId, x); }} />
      </label>
      <span className="muted" data-testid="video-fps" data-fps={live?.fps ?? ''} data-live={live ? JSON.stringify(live) : ''}
        title={live ? `per shown frame: decoding ${live.decodeMs.toFixed(0)} ms (not hidden behind the last fusion), from asking to fused ${live.fuseMs.toFixed(0)} ms, of which the pipeline ${live.pipelineMs.toFixed(0)} ms; ${live.shown} shown, ${live.skipped} skipped` : undefined}>
        {live ? `${playing ? 'live' : 'last play'} ${live.fps.toFixed(1)} fps (${live.skipped} skipped, ${(100 * lostShare(live)).toFixed(0)} % lost to decoding and the page)` : ''}
        {pipelineMs !== undefined ? ` · pipeline ${pipelineMs.toFixed(0)} ms/frame` : ''}
        {backend ? ` on ${backend}` : ''}
      </span>
      <VideoExport pairId={pairId} />
    </div>
  );
}
