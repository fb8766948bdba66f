/**
 * Exporting a video pair: every paired frame fused (not the live view's skipping), drawn with
 * or without the overlays, encoded in the browser (WebCodecs through mediabunny) into a WebM at
 * the source frame rate, with each frame's detections as JSON.
 */
import {
  BufferTarget, canEncodeVideo, Output, Quality, VideoSample, VideoSampleSource, WebMOutputFormat, type VideoCodec,
} from 'mediabunny';
import { getWorker } from '../../client';
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
 * `exact`: each frame as the pipeline made it, lossless (VP9 profile 1 at quantizer 0 on the
 * frame's own RGB planes, no YUV conversion: read back equal to the last level); `compact`: VP9
 * at mediabunny's very-high quality, 4:2:0 colour (measured on a 640×480 picture: an eighth of
 * the size, mean 1.4 levels off but up to 30 on sharp colour edges such as the overlays').
 */
export type ExportQuality = 'exact' | 'compact';

interface Encoding {
  label: string;
  config: { codec: VideoCodec; quality: Quality; fullCodecString?: string };
  /** Frames go to the encoder as planar G, B, R (4:4:4, identity matrix) rather than as RGBA for it to convert to YUV. */
  planarRgb?: boolean;
}

/** Encodings to try in turn, the first this browser has being used (VP8 last: every WebCodecs browser has it). */
function encodings(q: ExportQuality, width: number, height: number, fps: number): Encoding[] {
  // A bitrate to fall back on where the encoder takes no quantizer: about 4 bits a pixel.
  const lossless = new Quality({ quantizer: 0, bitrate: Math.round(width * height * fps * 4) });
  const veryHigh = new Quality('very-high');
  const vp8: Encoding = { label: 'VP8', config: { codec: 'vp8', quality: veryHigh } };
  if (q === 'compact') return [{ label: 'VP9', config: { codec: 'vp9', quality: veryHigh } }, vp8];
  return [
    // Profile 1, 8 bits, 4:4:4, BT.709 primaries, sRGB transfer, identity matrix, full range (mediabunny fits the level to the size).
    { label: 'VP9 lossless RGB', config: { codec: 'vp9', quality: lossless, fullCodecString: 'vp09.01.10.08.03.01.13.00.01' }, planarRgb: true },
    { label: 'VP9 quantizer 0', config: { codec: 'vp9', quality: lossless } },
    vp8,
  ];
}

/** The canvas as a 4:4:4 frame whose planes are its G, B and R (VP9's RGB layout). */
function planarRgbFrame(ctx: OffscreenCanvasRenderingContext2D, timestamp: number, duration: number): VideoFrame {
  const { width, height } = ctx.canvas;
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const n = width * height;
  const planes = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    planes[i] = rgba[4 * i + 1];
    planes[n + i] = rgba[4 * i + 2];
    planes[2 * n + i] = rgba[4 * i];
  }
  return new VideoFrame(planes, {
    format: 'I444', codedWidth: width, codedHeight: height, timestamp: Math.round(timestamp * 1e6), duration: Math.round(duration * 1e6),
    colorSpace: { primaries: 'bt709', transfer: 'iec61966-2-1', matrix: 'rgb', fullRange: true },
  });
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
    const { codec, ...options } = e.config;
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
  const client = getWorker();
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
          canvas = new OffscreenCanvas(out.width, out.height);
          output = new Output({ format: new WebMOutputFormat(), target: new BufferTarget() });
          source = new VideoSampleSource({ ...encoding.config, sizeChangeBehavior: 'contain' });
          output.addVideoTrack(source, { frameRate: v.fps });
          await output.start();
        }
        const ctx = canvas!.getContext('2d')!;
        const images = { pairId, width: out.width, height: out.height, fused: out.fused, seg: out.seg, label: null, detections: out.detections };
        if (opts.overlays) {
          const s = useStore.getState();
          paintResult(ctx, images, groundTruth(undefined, undefined, out), s.worker.classes.det, s.settings);
        } else {
          ctx.drawImage(out.fused, 0, 0);
        }
        const sample = encoding!.planarRgb
          ? new VideoSample(planarRgbFrame(ctx, f.time, 1 / v.fps))
          : new VideoSample(canvas!, { timestamp: f.time, duration: 1 / v.fps });
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
