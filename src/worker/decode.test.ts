import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { sniffSize } from './decode';

const FIXTURES = fileURLToPath(new URL('../../test-fixtures/', import.meta.url));
const blob = (bytes: number[] | Uint8Array) => new Blob([Uint8Array.from(bytes)]);
const le16 = (v: number) => [v & 0xff, v >> 8];
const le32 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];

describe('sniffSize (header sizes, so a decompression bomb is refused before decoding)', () => {
  it('reads PNG and JPEG files', async () => {
    expect(await sniffSize(blob(await readFile(`${FIXTURES}pairs/ir/00200D.png`)))).toEqual({ width: 640, height: 480 });
    const jpg = await readFile(`${FIXTURES}golden/eval-vifb_elecbike_vi.jpg`);
    const size = await sniffSize(blob(jpg));
    expect(size!.width).toBeGreaterThan(0);
    expect(size!.height).toBeGreaterThan(0);
  });

  it('reads GIF, BMP and the three WebP headers', async () => {
    const gif = [0x47, 0x49, 0x46, 0x38, 0x39, 0x61, ...le16(300), ...le16(200)];
    expect(await sniffSize(blob(gif))).toEqual({ width: 300, height: 200 });
    const bmp = [0x42, 0x4d, ...Array(16).fill(0), ...le32(1000), ...le32(-700 >>> 0)];
    expect(await sniffSize(blob(bmp))).toEqual({ width: 1000, height: 700 }); // top-down BMP: negative height
    const riff = (fmt: string, body: number[]) => [0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50, ...[...fmt].map((c) => c.charCodeAt(0)), ...body];
    const vp8x = riff('VP8X', [0, 0, 0, 0, 0, 0, 0, 0, ...le32(4999).slice(0, 3), ...le32(2999).slice(0, 3)]);
    expect(await sniffSize(blob(vp8x))).toEqual({ width: 5000, height: 3000 });
    const vp8 = riff('VP8 ', [...Array(10).fill(0), ...le16(640), ...le16(480)]);
    expect(await sniffSize(blob(vp8))).toEqual({ width: 640, height: 480 });
    const bits = (639 & 0x3fff) | ((479 & 0x3fff) << 14);
    const vp8l = riff('VP8L', [0, 0, 0, 0, 0x2f, ...le32(bits), 0, 0, 0, 0, 0]);
    expect(await sniffSize(blob(vp8l))).toEqual({ width: 640, height: 480 });
  });

  it('says null for what it does not know', async () => {
    expect(await sniffSize(blob([1, 2, 3]))).toBeNull();
    expect(await sniffSize(blob(new TextEncoder().encode('hello, not an image')))).toBeNull();
    expect(await sniffSize(blob([0xff, 0xd8, 0xff, 0xd9]))).toBeNull(); // JPEG without a frame header
  });
});
