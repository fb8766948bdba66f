/**
 * Test videos made in the page (mediabunny's bundle served same-origin; WebCodecs encoding or
 * muxing packets) and read back, for the video specs.
 */
import type { Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './fixtures';

const MEDIABUNNY = join(REPO, 'node_modules', 'mediabunny', 'dist', 'bundles', 'mediabunny.min.mjs');

/** Serves mediabunny's bundle same-origin, for the page to make and read test videos. */
export async function serveMediabunny(page: Page): Promise<void> {
  await page.route('**/__test__/mediabunny.mjs', (r) => r.fulfill({ contentType: 'text/javascript', body: readFileSync(MEDIABUNNY) }));
}

/**
 * Makes a WebM (VP8) of `frames` windows of a sample image sliding 240 px over the video, at
 * `fps`, W×H: a W×H window where the image has room, else the largest that fits, scaled.
 */
export async function makeVideo(page: Page, png: Buffer, frames: number, fps: number, W = 96, H = 72): Promise<Buffer> {
  const b64 = await page.evaluate(async ({ png, frames, fps, W, H }) => {
    const url = '/__test__/mediabunny.mjs';
    const mb = await import(/* @vite-ignore */ url);
    const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
    const src = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
    const canvas = new OffscreenCanvas(W, H);
    const ctx = canvas.getContext('2d')!;
    const output = new mb.Output({ format: new mb.WebMOutputFormat(), target: new mb.BufferTarget() });
    const source = new mb.VideoSampleSource({ codec: 'vp8', bitrate: 2e6, keyFrameInterval: 1 });
    output.addVideoTrack(source, { frameRate: fps });
    await output.start();
    for (let k = 0; k < frames; k++) {
      const sw = Math.min(W, src.width - 240);
      const sh = Math.min(H, src.height);
      ctx.drawImage(src, Math.min(200, src.width - 240 - sw) + Math.round((240 * k) / frames), Math.min(200, src.height - sh), sw, sh, 0, 0, W, H);
      const sample = new mb.VideoSample(canvas, { timestamp: k / fps, duration: 1 / fps });
      await source.add(sample);
      sample.close();
    }
    await output.finalize();
    const out = new Uint8Array(output.target.buffer);
    let s = '';
    for (let i = 0; i < out.length; i += 0x8000) s += String.fromCharCode(...out.subarray(i, i + 0x8000));
    return btoa(s);
  }, { png: png.toString('base64'), frames, fps, W, H });
  return Buffer.from(b64, 'base64');
}

/**
 * Videos muxed from packets, no encoding: `long`, 18,010 copies of one VP8 key frame (64×48),
 * past the app's 18,000-frame cap; `hevc`, an MKV whose one track is HEVC, which Chromium here
 * cannot decode.
 */
export async function muxVideo(page: Page, kind: 'long' | 'hevc'): Promise<Buffer> {
  const b64 = await page.evaluate(async (kind) => {
    const url = '/__test__/mediabunny.mjs';
    const mb = await import(/* @vite-ignore */ url);
    let output;
    if (kind === 'long') {
      const canvas = new OffscreenCanvas(64, 48);
      canvas.getContext('2d')!.fillRect(8, 8, 20, 20);
      let key: { packet: unknown; meta: unknown } | null = null;
      const one = new mb.Output({ format: new mb.WebMOutputFormat(), target: new mb.BufferTarget() });
      const enc = new mb.VideoSampleSource({ codec: 'vp8', bitrate: 1e5, onEncodedPacket: (packet: unknown, meta: unknown) => { key ??= { packet, meta }; } });
      one.addVideoTrack(enc, { frameRate: 30 });
      await one.start();
      const sample = new mb.VideoSample(canvas, { timestamp: 0, duration: 1 / 30 });
      await enc.add(sample);
      sample.close();
      await one.finalize();
      const { packet, meta } = key!;
      output = new mb.Output({ format: new mb.WebMOutputFormat(), target: new mb.BufferTarget() });
      const source = new mb.EncodedVideoPacketSource('vp8');
      output.addVideoTrack(source, { frameRate: 30 });
      await output.start();
      for (let k = 0; k < 18_010; k++) await source.add(new mb.EncodedPacket((packet as { data: Uint8Array }).data, 'key', k / 30, 1 / 30), k === 0 ? meta : undefined);
    } else {
      output = new mb.Output({ format: new mb.MkvOutputFormat(), target: new mb.BufferTarget() });
      const source = new mb.EncodedVideoPacketSource('hevc');
      output.addVideoTrack(source, { frameRate: 30 });
      await output.start();
      await source.add(new mb.EncodedPacket(new Uint8Array([0, 0, 0, 1, 0x40, 1, 0x0c]), 'key', 0, 1 / 30),
        { decoderConfig: { codec: 'hev1.1.6.L93.B0', codedWidth: 64, codedHeight: 48, description: new Uint8Array(23) } });
    }
    await output.finalize();
    const out = new Uint8Array(output.target.buffer);
    let s = '';
    for (let i = 0; i < out.length; i += 0x8000) s += String.fromCharCode(...out.subarray(i, i + 0x8000));
    return btoa(s);
  }, kind);
  return Buffer.from(b64, 'base64');
}

/** Frames of a WebM decoded in the page: count, and the RGBA of frame `k`. */
export async function readVideo(page: Page, bytes: Buffer, k: number): Promise<{ frames: number; width: number; height: number; rgba: number[] }> {
  return page.evaluate(async ({ b64, k }) => {
    const url = '/__test__/mediabunny.mjs';
    const mb = await import(/* @vite-ignore */ url);
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const input = new mb.Input({ source: new mb.BufferSource(bytes.buffer), formats: mb.ALL_FORMATS });
    const track = (await input.getPrimaryVideoTrack())!;
    let frames = 0;
    let rgba: number[] = [];
    for await (const sample of new mb.VideoSampleSink(track).samples()) {
      if (frames === k) {
        const c = new OffscreenCanvas(track.displayWidth, track.displayHeight);
        const ctx = c.getContext('2d')!;
        sample.draw(ctx, 0, 0);
        rgba = Array.from(ctx.getImageData(0, 0, c.width, c.height).data);
      }
      sample.close();
      frames++;
    }
    return { frames, width: track.displayWidth, height: track.displayHeight, rgba };
  }, { b64: bytes.toString('base64'), k });
}

