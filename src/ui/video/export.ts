/**
 * Exporting a video pair: every paired frame fused (not the live view's skipping), drawn with
 * or without the overlays, encoded in the browser (WebCodecs through mediabunny) into a WebM at
 * the source frame rate, with each frame's detections as JSON.
 */
import {
  BufferTarget, canEncodeVideo, Output, QUALITY_VERY_HIGH, VideoSample, VideoSampleSource, WebMOutputFormat,
} from 'mediabunny';
import { getEngine } from '../../client';
import type { Detection, ModelWeights } from '../../protocol/messages';
import { groundTruth, paintResult } from '../render';
import { useStore } from '../store/store';
import { frameSources } from './player';

export interface VideoExportResult {
  video: Blob;
  /** Per frame: its time, the two source timestamps and the detections (processed pixels). */
  detections: { frame: number; time: number; ir: number; vi: number; detections: Detection[] }[];
  frames: number;
  codec: string;
}

export interface VideoExportOptions {
  overlays: boolean;
  /** F weights of a run (else the pretrained F). */
  fusionWeights?: ModelWeights & { key: string };
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** The first codec this browser encodes: VP9, else VP8 (both WebM). */
async function chooseCodec(width: number, height: number): Promise<'vp9' | 'vp8'> {
  for (const c of ['vp9', 'vp8'] as const) if (await canEncodeVideo(c, { width, height })) return c;
  throw new Error('this browser cannot encode WebM video (no VP9 or VP8 encoder)');
}

/**
 * Fuses and encodes every frame of a video pair.
 * @throws DOMException AbortError when cancelled (the partial file is dropped).
 */
export async function exportVideoPair(pairId: string, opts: VideoExportOptions): Promise<VideoExportResult> {
  const st = useStore.getState();
  const v = st.videos[pairId];
  if (!v) throw new Error('not a video pair');
  const client = getEngine();
  const aspect = st.pairs[pairId]?.aspect;
  const total = v.frames.length;
  const detections: VideoExportResult['detections'] = [];
  let output: Output | null = null;
  let source: VideoSampleSource | null = null;
  let canvas: OffscreenCanvas | null = null;
  let codec: 'vp9' | 'vp8' = 'vp9';
  const resultId = `video-export:${pairId}`;
  try {
    for (const f of v.frames) {
      if (opts.signal?.aborted) throw new DOMException('export cancelled', 'AbortError');
      const { ir, vi, bitmaps } = await frameSources(pairId, f);
      let out;
      try {
        out = await client.fuse(resultId, ir, vi, undefined, { maxSide: st.settings.maxSide, ...(aspect ? { aspect } : {}) },
          { signal: opts.signal, ...(opts.fusionWeights ? { fusionWeights: opts.fusionWeights } : {}) });
      } finally {
        for (const b of bitmaps) b.close();
      }
      try {
        if (!output) {
          codec = await chooseCodec(out.width, out.height);
          canvas = new OffscreenCanvas(out.width, out.height);
          output = new Output({ format: new WebMOutputFormat(), target: new BufferTarget() });
          source = new VideoSampleSource({ codec, quality: QUALITY_VERY_HIGH, sizeChangeBehavior: 'contain' });
          output.addVideoTrack(source, { frameRate: v.fps });
          await output.start();
        }
        const ctx = canvas!.getContext('2d')!;
        const images = { pairId, width: out.width, height: out.height, fused: out.fused, seg: out.seg, label: null, detections: out.detections };
        if (opts.overlays) {
          const s = useStore.getState();
          paintResult(ctx, images, groundTruth(undefined, undefined, out), s.engine.classes.det, s.settings);
        } else {
          ctx.drawImage(out.fused, 0, 0);
        }
        const sample = new VideoSample(canvas!, { timestamp: f.time, duration: 1 / v.fps });
        try {
          await source!.add(sample);
        } finally {
          sample.close();
        }
      } finally {
        for (const b of [out.fused, out.ir, out.vi]) b.close();
      }
      detections.push({ frame: f.index, time: f.time, ir: f.ir, vi: f.vi, detections: out.detections });
      opts.onProgress?.(f.index + 1, total);
    }
    await output!.finalize();
  } catch (e) {
    if (output && output.state !== 'finalized') await output.cancel().catch(() => undefined);
    throw e;
  }
  const buffer = (output!.target as BufferTarget).buffer!;
  return { video: new Blob([buffer], { type: 'video/webm' }), detections, frames: total, codec };
}
