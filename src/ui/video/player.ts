/**
 * Video pairs: the two decoders of each pair and the live view.
 *
 * A video pair is a pair like any other whose inputs are the current frames (decoded bitmaps),
 * so the one scheduler fuses them and the viewer, overlays, swipe and runs work on video as on
 * images. Showing another frame replaces the inputs and asks for every result of the pair again.
 *
 * Playing keeps one frame in flight: when it is fused, the frame at the clock's time now is
 * next (newest wins), so a pipeline slower than the video skips frames and never queues them.
 */
import { frameAt, framePeriod, pairFrames, sampleFrames, type FramePair } from '../../core/video/frame-pairing';
import type { ImageSource } from '../../protocol/messages';
import { dropInputs, getInputs, setInputs } from '../cache';
import { PRETRAINED, resultKey } from '../store/results';
import { useStore, type PairState } from '../store/store';
import type { VideoPair } from '../store/video';
import { openVideo, MAX_VIDEO_FRAMES, type VideoFile } from './video-file';

interface Decoders {
  ir: VideoFile;
  vi: VideoFile;
  /** Bitmaps of the frame in the inputs now (closed when replaced). */
  shown: ImageBitmap[];
  /** Bumped by each frame change; a decode that finishes after a newer one started is dropped. */
  generation: number;
  /** How long the last frame decoded on demand took (ms): what decoding the newest frame costs. */
  decodeMs: number;
}
const decoders = new Map<string, Decoders>();

/** A video file the pairing matched, as dropped. */
export interface VideoFileIn {
  file: Blob;
  path: string;
}

/**
 * Opens a matched pair of videos and adds it as a pair showing its first paired frame.
 * @returns null, or why the pair cannot be used (no video track, a codec the browser lacks,
 *   streams that do not overlap).
 */
export async function addVideoPair(id: string, stem: string, ir: VideoFileIn, vi: VideoFileIn): Promise<string | null> {
  let irV: VideoFile | undefined;
  let viV: VideoFile | undefined;
  try {
    [irV, viV] = await Promise.all([openVideo(ir.file, ir.path), openVideo(vi.file, vi.path)]);
  } catch (e) {
    irV?.dispose();
    viV?.dispose();
    return (e as Error).message;
  }
  const frames = pairFrames(irV.timestamps, viV.timestamps, 0);
  if (!frames.length) {
    irV.dispose();
    viV.dispose();
    return `${stem}: the two videos have no time in common`;
  }
  const notes = [irV, viV].filter((v) => v.framesLeftOut > 0)
    .map((v) => `${v.name}: only the first ${MAX_VIDEO_FRAMES} frames are read (${v.framesLeftOut} more left out)`);
  decoders.set(id, { ir: irV, vi: viV, shown: [], generation: 0, decodeMs: 0 });
  const base = irV.timestamps.length <= viV.timestamps.length ? irV : viV;
  const video: VideoPair = {
    irName: ir.path, viName: vi.path, fps: 1 / framePeriod(base.timestamps), offset: 0, frames, frame: 0, notes,
  };
  const st = useStore.getState();
  st.setVideo(id, video);
  if (!(await loadFrame(id, 0))) {
    closeVideoPair(id);
    st.dropVideo(id);
    return `${stem}: the first frames could not be decoded`;
  }
  const pair: PairState = { id, name: stem, origin: 'user', media: 'video', paths: { ir: ir.path, vi: vi.path } };
  st.addPairs([pair], true);
  for (const n of notes) st.addLog('warn', n);
  return null;
}

/** The two frames of a paired frame, as sources for the worker, and their bitmaps. */
export interface DecodedFrame {
  ir: ImageSource;
  vi: ImageSource;
  bitmaps: ImageBitmap[];
}

/** Decodes the two frames of a paired frame (the caller closes the bitmaps). */
export async function frameSources(id: string, f: FramePair): Promise<DecodedFrame> {
  const d = decoders.get(id);
  if (!d) throw new Error('the video pair is gone');
  const [irB, viB] = await Promise.all([d.ir.frameAt(f.ir), d.vi.frameAt(f.vi)]);
  return {
    ir: { kind: 'bitmap', bitmap: irB, name: `${d.ir.name} @ ${f.ir.toFixed(3)} s` },
    vi: { kind: 'bitmap', bitmap: viB, name: `${d.vi.name} @ ${f.vi.toFixed(3)} s` },
    bitmaps: [irB, viB],
  };
}

/** A frame of a video pair sampled for a fine-tune. */
export type SampledFrame = DecodedFrame & { index: number };

/** `n` paired frames spread over a video pair, decoded (the caller closes the bitmaps). */
export async function sampledFrames(id: string, n: number): Promise<SampledFrame[]> {
  const frames = useStore.getState().videos[id]?.frames ?? [];
  const out: SampledFrame[] = [];
  try {
    for (const index of sampleFrames(frames.length, n)) out.push({ index, ...(await frameSources(id, frames[index])) });
  } catch (e) {
    for (const f of out) for (const b of f.bitmaps) b.close();
    throw e;
  }
  return out;
}

/**
 * Puts frame `index` into the pair's inputs, decoding it unless `decoded` (a decode started
 * earlier) brings it. @returns false if a newer request won or it failed.
 */
async function loadFrame(id: string, index: number, decoded?: Promise<DecodedFrame | null>): Promise<boolean> {
  const d = decoders.get(id);
  const f = useStore.getState().videos[id]?.frames[index];
  if (!d || !f) return false;
  const generation = ++d.generation;
  let frame: DecodedFrame | null = (await decoded) ?? null;
  try {
    if (!frame) {
      const t0 = performance.now();
      frame = await frameSources(id, f);
      d.decodeMs = performance.now() - t0;
    }
  } catch (e) {
    useStore.getState().addLog('error', (e as Error).message);
    return false;
  }
  const { bitmaps } = frame;
  if (generation !== d.generation || decoders.get(id) !== d) {
    for (const b of bitmaps) b.close();
    return false;
  }
  const old = getInputs(id);
  setInputs(id, {
    ir: frame.ir,
    vi: frame.vi,
    // The thumbnails stay those of the first frame.
    ...(old?.thumbs ? { thumbs: old.thumbs } : {}),
  });
  for (const b of d.shown) b.close();
  d.shown = bitmaps;
  return true;
}

/** Shows frame `index` of a video pair: decoded, then fused (with every run shown) by the scheduler. */
export async function showFrame(id: string, index: number, decoded?: Promise<DecodedFrame | null>): Promise<void> {
  const v = useStore.getState().videos[id];
  if (!v) return;
  const i = Math.max(0, Math.min(v.frames.length - 1, index));
  if (!(await loadFrame(id, i, decoded))) return;
  const st = useStore.getState();
  st.patchVideo(id, { frame: i });
  st.refreshPair(id);
}

/** Pairs the frames again with another offset (s), keeping the time shown. */
export async function setOffset(id: string, offset: number): Promise<void> {
  const d = decoders.get(id);
  const v = useStore.getState().videos[id];
  if (!d || !v) return;
  const frames = pairFrames(d.ir.timestamps, d.vi.timestamps, offset);
  if (!frames.length) {
    useStore.getState().addLog('warn', `An offset of ${offset.toFixed(3)} s leaves the two videos no time in common: not applied.`);
    return;
  }
  const time = v.frames[v.frame]?.time ?? 0;
  useStore.getState().patchVideo(id, { offset, frames });
  await showFrame(id, frameAt(frames, time)?.index ?? 0);
}

/** Resolves when the pretrained result of the pair is fused (or failed, or gone), or playing stops. */
function fused(id: string): Promise<void> {
  const key = resultKey(PRETRAINED, id);
  const settled = () => {
    const s = useStore.getState();
    const r = s.results[key];
    return s.playing !== id || !r || r.status === 'error' || r.status === 'held' || (r.status === 'done' && !r.stale);
  };
  if (settled()) return Promise.resolve();
  return new Promise((resolve) => {
    const stop = useStore.subscribe(() => {
      if (!settled()) return;
      stop();
      resolve();
    });
  });
}

const nextFrame = () => new Promise<void>((r) => requestAnimationFrame(() => r()));

/** A decode started ahead; a failed one is null (the frame is then decoded when shown). */
interface Prefetch {
  index: number;
  frame: Promise<DecodedFrame | null>;
}

function prefetch(id: string, f: FramePair): Prefetch {
  return { index: f.index, frame: frameSources(id, f).catch(() => null) };
}

function dropPrefetch(p: Prefetch | null): void {
  void p?.frame.then((d) => d?.bitmaps.forEach((b) => b.close()));
}

/**
 * Plays a video pair from the frame shown, until paused, removed or at its end.
 *
 * While a frame is fused, the frame due when that fusion should end is decoded (at least the
 * next frame), so decoding is off the pipeline's path. The estimate is the shortest of the last
 * three fusions: a frame decoded late is shown a little stale (at most one fusion), while one
 * decoded early leaves the pipeline idle until its time; if that wait would be longer than
 * decoding the newest frame, the newest frame is decoded instead.
 */
export async function play(id: string): Promise<void> {
  const st = useStore.getState();
  const v = st.videos[id];
  if (!v || st.playing === id) return;
  st.setPlaying(id);
  const from = v.frame >= v.frames.length - 1 ? 0 : Math.max(0, v.frame);
  const start = v.frames[from]?.time ?? 0;
  const began = performance.now();
  const t0 = began - start * 1000;
  const clock = () => (performance.now() - t0) / 1000;
  const shownAt: number[] = [];
  let shown = 0, skipped = 0, decodeMs = 0, fuseMs = 0, pipelineMs = 0;
  const lastTotal = st.results[resultKey(PRETRAINED, id)]?.timings?.total;
  const recentFuseMs: number[] = lastTotal ? [lastTotal] : [];
  const decodeCost = () => (decoders.get(id)?.decodeMs ?? 0) / 1000;
  // The frame shown stays; the one after it is decoded from the start.
  let ahead: Prefetch | null = from === v.frame && from + 1 < v.frames.length ? prefetch(id, v.frames[from + 1]) : null;
  const playing = () => useStore.getState().playing === id && decoders.has(id);
  try {
    while (playing()) {
      const cur = useStore.getState().videos[id];
      if (!cur) break;
      const t = clock();
      const last = cur.frames[cur.frames.length - 1];
      if (t > last.time + 1 / cur.fps) break;
      let f = frameAt(cur.frames, t);
      let decoded: Promise<DecodedFrame | null> | undefined;
      if (ahead) {
        const next = cur.frames[ahead.index];
        const newer = Boolean(f && f.index > cur.frame);
        if (next && next.time > t + 1e-9 && (!newer || next.time - t <= decodeCost())) {
          await nextFrame();
          continue;
        }
        if (next && next.time <= t + 1e-9 && t - next.time <= Math.max(decodeCost(), Math.min(...recentFuseMs) / 1000)) {
          f = next;
          decoded = ahead.frame;
        } else {
          dropPrefetch(ahead);
        }
        ahead = null;
      }
      if (!f || f.index === cur.frame) {
        await nextFrame();
        continue;
      }
      if (cur.frame >= 0 && f.index > cur.frame + 1) skipped += f.index - cur.frame - 1;
      const a = performance.now();
      await showFrame(id, f.index, decoded);
      const b = performance.now();
      if (recentFuseMs.length) {
        const due = Math.max(f.index + 1, frameAt(cur.frames, clock() + Math.min(...recentFuseMs) / 1000)?.index ?? 0);
        if (due < cur.frames.length) ahead = prefetch(id, cur.frames[due]);
      }
      await fused(id);
      const now = performance.now();
      recentFuseMs.push(now - b);
      if (recentFuseMs.length > 3) recentFuseMs.shift();
      shown++;
      decodeMs += b - a;
      fuseMs += now - b;
      pipelineMs += useStore.getState().results[resultKey(PRETRAINED, id)]?.timings?.pipeline ?? 0;
      shownAt.push(now);
      while (shownAt.length > 2 && now - shownAt[0] > 2000) shownAt.shift();
      useStore.getState().setLive({
        pairId: id, fps: shownAt.length > 1 ? (shownAt.length - 1) / ((now - shownAt[0]) / 1000) : 0,
        decodeMs: decodeMs / shown, fuseMs: fuseMs / shown, pipelineMs: pipelineMs / shown, elapsedMs: now - began, shown, skipped,
      });
    }
  } finally {
    dropPrefetch(ahead);
    if (useStore.getState().playing === id) useStore.getState().setPlaying(null);
  }
}

export function pause(): void {
  useStore.getState().setPlaying(null);
}

/** Frees a video pair's decoders and bitmaps (the pair itself goes through `removePair`). */
export function closeVideoPair(id: string): void {
  const d = decoders.get(id);
  if (!d) return;
  decoders.delete(id);
  for (const b of d.shown) b.close();
  d.ir.dispose();
  d.vi.dispose();
  if (!useStore.getState().pairs[id]) dropInputs(id);
}

// A removed video pair (or every imported pair cleared) lets its decoders go.
useStore.subscribe((s, prev) => {
  if (s.pairs === prev.pairs) return;
  for (const id of decoders.keys()) if (!s.pairs[id] && prev.pairs[id]) closeVideoPair(id);
});
