/**
 * A figure of the same pairs across methods: one row per pair, one column per `runFuse` output
 * folder (rgb/, seg/, fused/, detections.json), each cell the fused image with S's class map and
 * boxes over it, and an inset magnifying the window where the columns differ most from the first
 * (S's classes first, then the fused image). Pairs are chosen by the same measure, so the figure
 * shows the differences there are, not a pick. Written as one
 * SVG with the cells as embedded JPEGs (small enough for docs/).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { readImage } from './image-io';
import { DET_COLORS, SEG_COLORS } from '../core/image/palette';
import type { RawImage } from '../core/types';

export interface FigureColumn {
  label: string;
  /** A `runFuse` output folder. */
  dir: string;
}

export interface PairsFigureOptions {
  /** How many pairs (rows). */
  pairs: number;
  /** Cell width in pixels (the image is shrunk to it). */
  cellWidth?: number;
  /** The inset's window at full resolution, a quarter of the image's sides by default. */
  window?: { width: number; height: number };
  /** Lowest detection score drawn. */
  minScore?: number;
  title?: string;
}

/**
 * Per pixel, how much the columns differ from the first: the share of the other columns whose
 * class differs from its class, plus a quarter of the largest fused-Y difference (0..1), so that
 * where S's reading of the scene changes counts first and the image's own change breaks ties.
 */
async function disagreement(columns: FigureColumn[], stem: string): Promise<{ d: Float32Array; width: number; height: number }> {
  const read = async (dir: string, sub: string) => readImage(path.join(dir, sub, `${stem}.png`));
  const [refY, refSeg] = [await read(columns[0].dir, 'fused'), await read(columns[0].dir, 'seg')];
  const n = refY.width * refY.height;
  const d = new Float32Array(n), dy = new Float32Array(n);
  const others = columns.slice(1);
  for (const c of others) {
    const [y, seg] = [await read(c.dir, 'fused'), await read(c.dir, 'seg')];
    for (let i = 0; i < n; i++) {
      if (seg.data[i * seg.channels] !== refSeg.data[i * refSeg.channels]) d[i] += 1 / others.length;
      dy[i] = Math.max(dy[i], Math.abs(y.data[i * y.channels] - refY.data[i * refY.channels]) / 255);
    }
  }
  for (let i = 0; i < n; i++) d[i] += 0.25 * dy[i];
  return { d, width: refY.width, height: refY.height };
}

/**
 * The window (on an 8-px grid) of the largest summed difference `d` (per pixel), by an integral
 * image. Exported for its test.
 */
export function largestWindow(d: Float32Array, width: number, height: number, ww: number, wh: number): { x: number; y: number } {
  const I = new Float64Array((width + 1) * (height + 1));
  for (let y = 0; y < height; y++) {
    let row = 0;
    for (let x = 0; x < width; x++) {
      row += d[y * width + x];
      I[(y + 1) * (width + 1) + x + 1] = I[y * (width + 1) + x + 1] + row;
    }
  }
  const sum = (x: number, y: number) => I[(y + wh) * (width + 1) + x + ww] - I[y * (width + 1) + x + ww] - I[(y + wh) * (width + 1) + x] + I[y * (width + 1) + x];
  let best = { x: 0, y: 0 }, most = -1;
  for (let y = 0; y + wh <= height; y += 8) {
    for (let x = 0; x + ww <= width; x += 8) {
      const s = sum(x, y);
      if (s > most) { most = s; best = { x, y }; }
    }
  }
  return best;
}

interface Detections { images: { file: string; boxes: number[][] }[] }

/** The fused image in colour with S's classes (40 % over) and boxes (score ≥ minScore) drawn on it, RGB. */
async function composed(dir: string, stem: string, minScore: number): Promise<RawImage> {
  const rgb = await readImage(path.join(dir, 'rgb', `${stem}.png`));
  const seg = await readImage(path.join(dir, 'seg', `${stem}.png`));
  const { width: w, height: h } = rgb;
  const out = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    const c = seg.data[i * seg.channels];
    for (let k = 0; k < 3; k++) {
      const v = rgb.data[i * rgb.channels + k];
      out[3 * i + k] = c > 0 && c < SEG_COLORS.length ? Math.round(0.6 * v + 0.4 * SEG_COLORS[c][k]) : v;
    }
  }
  const dets = JSON.parse(await readFile(path.join(dir, 'detections.json'), 'utf8')) as Detections;
  const boxes = dets.images.find((im) => path.parse(im.file).name === stem)?.boxes ?? [];
  for (const [x1, y1, x2, y2, cls, score] of boxes) {
    if ((score ?? 1) < minScore) continue;
    const hex = DET_COLORS[cls] ?? '#ffffff';
    const col = [1, 3, 5].map((o) => parseInt(hex.slice(o, o + 2), 16));
    const [a, b, c, d] = [x1, y1, x2, y2].map(Math.round);
    for (let t = 0; t < 2; t++) {
      for (let x = Math.max(0, a); x <= Math.min(w - 1, c); x++) for (const y of [b + t, d - t]) if (y >= 0 && y < h) out.set(col, 3 * (y * w + x));
      for (let y = Math.max(0, b); y <= Math.min(h - 1, d); y++) for (const x of [a + t, c - t]) if (x >= 0 && x < w) out.set(col, 3 * (y * w + x));
    }
  }
  return { width: w, height: h, channels: 3, data: out };
}

/** `src` (RGB) shrunk or grown to `width`×`height` by area sampling (nearest when growing). */
function resample(src: RawImage, x0: number, y0: number, sw: number, sh: number, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  const fx = sw / width, fy = sh / height;
  for (let y = 0; y < height; y++) {
    const ya = y0 + Math.floor(y * fy), yb = Math.max(ya + 1, y0 + Math.floor((y + 1) * fy));
    for (let x = 0; x < width; x++) {
      const xa = x0 + Math.floor(x * fx), xb = Math.max(xa + 1, x0 + Math.floor((x + 1) * fx));
      for (let k = 0; k < 3; k++) {
        let s = 0;
        for (let yy = ya; yy < yb; yy++) for (let xx = xa; xx < xb; xx++) s += src.data[3 * (yy * src.width + xx) + k];
        out[3 * (y * width + x) + k] = Math.round(s / ((yb - ya) * (xb - xa)));
      }
    }
  }
  return out;
}

/** Draws a `w`×`h` frame of 2 px in `col` at (x, y) on an RGB buffer of width `W`. */
function frame(buf: Uint8Array, W: number, H: number, x: number, y: number, w: number, h: number, col: number[]): void {
  for (let t = 0; t < 2; t++) {
    for (let i = x; i < x + w; i++) for (const j of [y + t, y + h - 1 - t]) if (i >= 0 && i < W && j >= 0 && j < H) buf.set(col, 3 * (j * W + i));
    for (let j = y; j < y + h; j++) for (const i of [x + t, x + w - 1 - t]) if (i >= 0 && i < W && j >= 0 && j < H) buf.set(col, 3 * (j * W + i));
  }
}

/** The pairs where the columns differ most from the first (mean of {@link disagreement}), most first. */
export async function pairsWhereColumnsDiffer(columns: FigureColumn[], stems: string[], count: number): Promise<string[]> {
  const scored: { stem: string; diff: number }[] = [];
  for (const stem of stems) {
    const { d } = await disagreement(columns, stem);
    scored.push({ stem, diff: d.reduce((a, b) => a + b, 0) / d.length });
  }
  return scored.sort((a, b) => b.diff - a.diff).slice(0, count).map((s) => s.stem);
}

/** The figure as SVG text (see the module comment). */
export async function pairsFigure(columns: FigureColumn[], stems: string[], o: PairsFigureOptions): Promise<string> {
  if (columns.length < 2) throw new Error('pairsFigure: needs at least two columns');
  const chosen = await pairsWhereColumnsDiffer(columns, stems, o.pairs);
  const cw = o.cellWidth ?? 320;
  const minScore = o.minScore ?? 0.3;
  const head = 34, side = 70, gap = 4;
  const cells: string[] = [];
  let ch = 0;
  for (const [row, stem] of chosen.entries()) {
    const ref = await disagreement(columns, stem);
    const win = o.window ?? { width: Math.round(ref.width / 4), height: Math.round(ref.height / 4) };
    const at = largestWindow(ref.d, ref.width, ref.height, win.width, win.height);
    ch = Math.round((cw * ref.height) / ref.width);
    const scale = cw / ref.width;
    const insetW = Math.round(cw * 0.45), insetH = Math.round((insetW * win.height) / win.width);
    for (const [col, c] of columns.entries()) {
      const full = await composed(c.dir, stem, minScore);
      const cell = resample(full, 0, 0, full.width, full.height, cw, ch);
      frame(cell, cw, ch, Math.round(at.x * scale), Math.round(at.y * scale), Math.round(win.width * scale), Math.round(win.height * scale), [255, 255, 255]);
      const inset = resample(full, at.x, at.y, win.width, win.height, insetW, insetH);
      const ix = cw - insetW, iy = ch - insetH;
      for (let y = 0; y < insetH; y++) cell.set(inset.subarray(3 * y * insetW, 3 * (y + 1) * insetW), 3 * ((iy + y) * cw + ix));
      frame(cell, cw, ch, ix, iy, insetW, insetH, [255, 255, 255]);
      const rgba = new Uint8Array(cw * ch * 4);
      for (let i = 0; i < cw * ch; i++) { rgba.set(cell.subarray(3 * i, 3 * i + 3), 4 * i); rgba[4 * i + 3] = 255; }
      const jpg = jpeg.encode({ data: rgba, width: cw, height: ch }, 82).data;
      const x = side + col * (cw + gap), y = head + row * (ch + gap);
      cells.push(`<image x="${x}" y="${y}" width="${cw}" height="${ch}" href="data:image/jpeg;base64,${Buffer.from(jpg).toString('base64')}"/>`);
    }
    cells.push(`<text x="${side - 6}" y="${head + row * (ch + gap) + ch / 2}" font-size="12" text-anchor="end">${stem}</text>`);
  }
  const W = side + columns.length * (cw + gap), H = head + chosen.length * (ch + gap) + 16;
  const titles = columns.map((c, i) => `<text x="${side + i * (cw + gap) + cw / 2}" y="${head - 8}" font-size="13" text-anchor="middle">${escapeXml(c.label)}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">` +
    `<rect width="${W}" height="${H}" fill="#fff"/>` +
    (o.title ? `<text x="${side}" y="14" font-size="12">${escapeXml(o.title)}</text>` : '') +
    titles.join('') + cells.join('') +
    `<text x="${side}" y="${H - 4}" font-size="11" fill="#555">Inset: the window where the columns differ most from the first, S's classes first, then the fused image (framed in each cell); classes of S at 40 %, boxes scored ≥ ${minScore}.</text></svg>\n`;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
