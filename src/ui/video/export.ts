/**
 * Exporting a video pair: every paired frame fused (not the live view's skipping), drawn with
 * or without the overlays, encoded in the browser (WebCodecs through mediabunny) into a WebM at
 * the source frame rate, with each frame's detections as JSON.
 */
import {
  BufferTarget, canEncodeVideo, Output, Quality, VideoSample, VideoSampleSource, WebMOutputFormat, type VideoCodec,
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
  /** The encoding used, in words. */
  codec: string;
}

/**
 * `exact`: each frame as the pipeline made it, near-lossless (VP9 profile 1: full-resolution
 * colour, quantizer 0; on a 640×480 picture here within 3 levels, mean 0.7); `compact`: VP9 at
 * mediabunny's very-high quality, 4:2:0 colour, a fifth of the size on that picture (mean 1.4,
 * but up to 30 levels on sharp colour edges).
 */
export type ExportQuality = 'exact' | 'compact';

interface Encoding {
  label: string;
  codec: VideoCodec;
  quality: Quality;
  fullCodecString?: string;
}

/** Encodings to try in turn, the first this browser has being used (VP8 last: every WebCodecs browser has it). */
function encodings(q: ExportQuality, width: number, height: number, fps: number): Encoding[] {
  // A bitrate to fall back on where the encoder takes no quantizer: about 4 bits a pixel.
  const lossless = new Quality({ quantizer: 0, bitrate: Math.round(width * height * fps * 4) });
  const veryHigh = new Quality('very-high');
  const vp8: Encoding = { label: 'VP8', codec: 'vp8', quality: veryHigh };
  if (q === 'compact') return [{ label: 'VP9', codec: 'vp9', quality: veryHigh }, vp8];
  return [
    // Profile 1, 8 bits, 4:4:4 (the level is fitted to the size by mediabunny).
    { label: 'VP9 4:4:4 quantizer 0', codec: 'vp9', quality: lossless, fullCodecString: 'vp09.01.10.08.03.01.01.01.00' },
    { label: 'VP9 quantizer 0', codec: 'vp9', quality: lossless },
    vp8,
  ];
}

export interface VideoExportOptions {
  overlays: boolean;
  quality: ExportQuality;
  /** F weights of a run (else the pretrained F). */
  fusionWeights?: ModelWeights & { key: string };
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

async function chooseEncoding(q: ExportQuality, width: number, height: number, frameRate: number): Promise<Encoding> {
  for (const e of encodings(q, width, height, frameRate)) {
    const { label: _label, codec, ...options } = e;
    if (await canEncodeVideo(codec, { width, height, frameRate, ...options })) return e;
  }
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
  let encoding: Encoding | null = null;
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
          encoding = await chooseEncoding(opts.quality, out.width, out.height, v.fps);
          const { label: _label, ...config } = encoding;
          canvas = new OffscreenCanvas(out.width, out.height);
          output = new Output({ format: new WebMOutputFormat(), target: new BufferTarget() });
          source = new VideoSampleSource({ ...config, sizeChangeBehavior: 'contain' });
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
  return { video: new Blob([buffer], { type: 'video/webm' }), detections, frames: total, codec: encoding!.label };
}
