/**
 * The store's video slice: for each video pair (a pair whose inputs are the current frames of
 * an infrared and a visible video), its paired frames, the offset the person set and the frame
 * shown; and what is playing, at what rate. The decoders live in `../video/player.ts`.
 */
import type { StateCreator } from 'zustand';
import type { FramePair } from '../../core/video/frame-pairing';
import type { ResultsSlice } from './results';

export interface VideoPair {
  irName: string;
  viName: string;
  /** Source frame rate of the paired stream (frames per second). */
  fps: number;
  /** Seconds the visible video is ahead of the infrared one (nudged by the person). */
  offset: number;
  frames: FramePair[];
  /** Index into `frames` of the frame shown (and fused). */
  frame: number;
  /** What the person should know (frames left out of a very long video, …). */
  notes: string[];
}

export interface LiveStats {
  pairId: string;
  fps: number;
  /** Mean ms per shown frame: decoding the two frames, and from asking to fused (the worker's pipeline and the page's waits). */
  decodeMs: number;
  fuseMs: number;
  /** Mean ms of the worker's pipeline (fusion, segmentation, detection) per shown frame: the rate to reach. */
  pipelineMs: number;
  /** From play to the last frame fused (ms): shown × pipelineMs of it is the pipeline's share. */
  elapsedMs: number;
  /** Frames shown and skipped since play. */
  shown: number;
  skipped: number;
}

export interface VideoSlice {
  videos: Record<string, VideoPair>;
  /** The video pair playing, if any. */
  playing: string | null;
  /** The live view's rate: frames shown per second (over the last 2 s, or the last two frames when slower), and where a frame's time went. */
  live: LiveStats | null;
  setVideo(id: string, v: VideoPair): void;
  patchVideo(id: string, patch: Partial<VideoPair>): void;
  dropVideo(id: string): void;
  setPlaying(id: string | null): void;
  setLive(live: LiveStats | null): void;
  /** The pair's inputs changed (another frame): every result of it is fused again, the old images shown meanwhile. */
  refreshPair(id: string): void;
}

/** The share of the time played spent outside the worker's pipeline (decoding, waiting, the page). */
export function lostShare(live: LiveStats): number {
  return live.elapsedMs > 0 ? Math.max(0, 1 - (live.shown * live.pipelineMs) / live.elapsedMs) : 0;
}

/** The slice without video pair `id` (removed, or never opened): not playing, no live stats. */
export function withoutVideo(s: Pick<VideoSlice, 'videos' | 'playing' | 'live'>, id: string): Pick<VideoSlice, 'videos'> & Partial<Pick<VideoSlice, 'playing' | 'live'>> {
  const { [id]: _gone, ...videos } = s.videos;
  return { videos, ...(s.playing === id ? { playing: null } : {}), ...(s.live?.pairId === id ? { live: null } : {}) };
}

export const createVideoSlice: StateCreator<VideoSlice & ResultsSlice, [], [], VideoSlice> = (set) => ({
  videos: {},
  playing: null,
  live: null,
  setVideo: (id, v) => set((s) => ({ videos: { ...s.videos, [id]: v } })),
  patchVideo: (id, patch) => set((s) => (s.videos[id] ? { videos: { ...s.videos, [id]: { ...s.videos[id], ...patch } } } : {})),
  dropVideo: (id) => set((s) => withoutVideo(s, id)),
  setPlaying: (playing) => set({ playing }),
  setLive: (live) => set({ live }),
  refreshPair: (id) => set((s) => ({
    results: Object.fromEntries(Object.entries(s.results).map(([k, r]) => [k, r.pairId === id && r.status !== 'held'
      ? { ...r, status: 'queued', stale: r.version > 0, scoresStatus: 'none', scores: undefined, error: undefined } : r])),
  })),
});
