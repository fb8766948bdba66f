/**
 * One video file, read with mediabunny (demuxing MP4/WebM/MKV/MOV, decoding through WebCodecs):
 * its size, its frames' timestamps, and the frame at a timestamp as an ImageBitmap. Frames are
 * decoded on demand, never by seeking a `<video>` element, so a frame is exactly the file's.
 */
import { ALL_FORMATS, BlobSource, EncodedPacketSink, Input, VideoSampleSink, type InputVideoTrack } from 'mediabunny';

/** Frames read from one video at most (10 minutes at 30 fps): beyond it the rest is left out, and said. */
export const MAX_VIDEO_FRAMES = 18_000;

/** A video the app cannot use, with the reason in words. */
export class UnreadableVideoError extends Error {
  override name = 'UnreadableVideoError';
}

export interface VideoFile {
  name: string;
  width: number;
  height: number;
  /** Presentation timestamps of the frames (s), ascending; at most {@link MAX_VIDEO_FRAMES}. */
  timestamps: number[];
  /** Frames the file has beyond {@link MAX_VIDEO_FRAMES}, left out. */
  framesLeftOut: number;
  codec: string;
  /** The frame shown at `t` (s), as a bitmap the caller closes. */
  frameAt(t: number): Promise<ImageBitmap>;
  dispose(): void;
}

/**
 * Opens a video file and lists its frames.
 * @throws UnreadableVideoError when it has no video track, or one this browser cannot decode.
 */
export async function openVideo(file: Blob, name: string): Promise<VideoFile> {
  const input = new Input({ source: new BlobSource(file), formats: ALL_FORMATS });
  let track: InputVideoTrack | null;
  try {
    track = await input.getPrimaryVideoTrack();
  } catch (e) {
    input.dispose();
    throw new UnreadableVideoError(`${name}: not a readable video (${(e as Error).message})`);
  }
  if (!track) {
    input.dispose();
    throw new UnreadableVideoError(`${name}: no video track`);
  }
  const codec = (await track.getCodecParameterString()) ?? track.codec ?? 'unknown codec';
  if (!(await track.canDecode())) {
    input.dispose();
    throw new UnreadableVideoError(`${name}: this browser cannot decode its video (${codec})`);
  }
  const timestamps: number[] = [];
  let total = 0;
  for await (const p of new EncodedPacketSink(track).packets(undefined, undefined, { metadataOnly: true })) {
    if (total++ < MAX_VIDEO_FRAMES) timestamps.push(p.timestamp);
  }
  if (!timestamps.length) {
    input.dispose();
    throw new UnreadableVideoError(`${name}: the video track has no frames`);
  }
  // Packets come in decode order; frames are shown in presentation order.
  timestamps.sort((a, b) => a - b);
  const sink = new VideoSampleSink(track);
  return {
    name,
    width: track.displayWidth,
    height: track.displayHeight,
    timestamps,
    framesLeftOut: Math.max(0, total - MAX_VIDEO_FRAMES),
    codec,
    async frameAt(t) {
      const sample = await sink.getSample(t);
      if (!sample) throw new UnreadableVideoError(`${name}: no frame at ${t.toFixed(3)} s`);
      const frame = sample.toVideoFrame();
      try {
        return await createImageBitmap(frame, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
      } finally {
        frame.close();
        sample.close();
      }
    },
    dispose: () => input.dispose(),
  };
}
