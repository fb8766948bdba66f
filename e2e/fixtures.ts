/**
 * Builds import fixtures at test time from the bundled samples (public/samples) and small
 * generated PNGs, so the specs run on a fresh clone without ../shared.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import type { Page } from '@playwright/test';

export const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
export const SAMPLES = join(REPO, 'public', 'samples');

/** A grey (1 channel) or RGB (3 channel) PNG with a checker pattern. */
/** A square window of a PNG file, re-encoded as 8-bit grey (channels 1) or RGB (channels 3). */
export function cropPng(file: string, channels: 1 | 3, crop: { x: number; y: number; size: number }): Buffer {
  const src = PNG.sync.read(readFileSync(file));
  const { x, y, size } = crop;
  const colorType = channels === 1 ? 0 : 2;
  const out = new PNG({ width: size, height: size, colorType, inputColorType: colorType, inputHasAlpha: false });
  const data = Buffer.alloc(size * size * channels);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const s = ((y + r) * src.width + (x + c)) * 4;
      for (let k = 0; k < channels; k++) data[(r * size + c) * channels + k] = src.data[s + k];
    }
  }
  out.data = data;
  return PNG.sync.write(out, { colorType, inputColorType: colorType, inputHasAlpha: false });
}

export function checkerPng(width: number, height: number, channels: 1 | 3, cell = 16): Buffer {
  const colorType = channels === 1 ? 0 : 2;
  const png = new PNG({ width, height, colorType, inputColorType: colorType, inputHasAlpha: false });
  const data = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const on = ((Math.floor(x / cell) ^ Math.floor(y / cell)) & 1) === 1;
      for (let c = 0; c < channels; c++) data[(y * width + x) * channels + c] = on ? 210 - 50 * c : 30 + 40 * c;
    }
  }
  png.data = data;
  return PNG.sync.write(png, { colorType, inputColorType: colorType, inputHasAlpha: false });
}

/** What `importFolder` contains, by pair stem. */
export interface ImportFolder {
  dir: string;
  /** Pairs expected to fuse. */
  good: string[];
  /** Pair whose IR file is not an image. */
  broken: string;
  /** Files that pair with nothing. */
  unmatched: string[];
  /** Pair with VI of another size than IR. */
  mismatched: string;
  /** Pair above 2048 px. */
  large: string;
}

/**
 * A folder `ir/ vi/ label/` with: one bundled sample pair (with label), a pair whose sizes
 * differ, a pair above 2048 px, a broken IR file, an IR file without VI and a text file.
 */
export function makeImportFolder(): ImportFolder {
  const dir = mkdtempSync(join(process.env.TMPDIR ?? tmpdir(), 'fp-import-'));
  for (const d of ['ir', 'vi', 'label']) mkdirSync(join(dir, d));
  const s = '00412D';
  copyFileSync(join(SAMPLES, 'ir', `${s}.png`), join(dir, 'ir', `${s}.png`));
  copyFileSync(join(SAMPLES, 'vi', `${s}.png`), join(dir, 'vi', `${s}.png`));
  copyFileSync(join(SAMPLES, 'label', `${s}.png`), join(dir, 'label', `${s}.png`));
  writeFileSync(join(dir, 'ir', 'sizes.png'), checkerPng(320, 240, 1));
  writeFileSync(join(dir, 'vi', 'sizes.png'), checkerPng(400, 300, 3));
  writeFileSync(join(dir, 'ir', 'large.png'), checkerPng(2600, 1200, 1, 64));
  writeFileSync(join(dir, 'vi', 'large.png'), checkerPng(2600, 1200, 3, 64));
  writeFileSync(join(dir, 'ir', 'broken.png'), Buffer.from('this is not a PNG file at all'));
  writeFileSync(join(dir, 'vi', 'broken.png'), checkerPng(64, 48, 3));
  writeFileSync(join(dir, 'ir', 'lonely.png'), checkerPng(64, 48, 1));
  writeFileSync(join(dir, 'notes.txt'), 'not an image\n');
  return {
    dir, good: [s, 'sizes', 'large'], broken: 'broken', unmatched: ['lonely.png', 'notes.txt'],
    mismatched: 'sizes', large: 'large',
  };
}

/** A grey PNG of one value (a constant image). */
export function flatPng(width: number, height: number, value: number): Buffer {
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  png.data = Buffer.alloc(width * height, value);
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
}

/** A 64×64 window of a bundled sample. */
const CROP = { sample: '00233D', x: 310, y: 220, size: 64 };


/** A one-pair sample index: the 64×64 crop, with or without its label. */
function stubIndex(withLabel: boolean): string {
  const url = (png: Buffer) => `data:image/png;base64,${png.toString('base64')}`;
  return JSON.stringify({
    pairs: [{
      name: `${CROP.sample}-crop${CROP.size}`,
      ir: url(cropPng(join(SAMPLES, 'ir', `${CROP.sample}.png`), 1, CROP)),
      vi: url(cropPng(join(SAMPLES, 'vi', `${CROP.sample}.png`), 3, CROP)),
      ...(withLabel ? { label: url(cropPng(join(SAMPLES, 'label', `${CROP.sample}.png`), 1, CROP)) } : {}),
    }],
  });
}

/** Replaces the bundled samples with the one small pair of {@link stubIndex} (fast on any backend). */
export async function stubSamples(page: Page, withLabel: boolean): Promise<void> {
  const index = stubIndex(withLabel);
  await page.route('**/samples/index.json', (r) => r.fulfill({ contentType: 'application/json', body: index }));
  await page.route('**/samples/detection.json', (r) => r.fulfill({ contentType: 'application/json', body: '{"images":[]}' }));
}
